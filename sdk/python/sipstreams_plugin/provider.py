"""The plugin run in-process (the Go SDK's sdk.LocalProvider): it assigns
stream handles, dispatches NewFromSDP by match rule and priority, runs the
fused Prepare, serialises the calls to each stream, turns unexpected
exceptions into InternalError and queues notifications for the host."""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .errors import (
    InternalError,
    InvalidArgumentError,
    PluginUnavailableError,
    StreamError,
    StreamNotFoundError,
    UnimplementedError,
    UnknownMethodError,
    UnknownStreamError,
    IllegalStateError,
)
from .lifecycle import MEDIA_STREAM_DID_INITIALIZE, MEDIA_STREAM_DID_NOT_INITIALIZE
from .sdp import media_at
from .types import (
    Attributes,
    CreateRequest,
    Env,
    GetLocalMediaRequest,
    InitializeRequest,
    InvokeRequest,
    Manifest,
    NewFromSDPRequest,
    Plugin,
    Prepare,
    StreamType,
    to_json,
)

__all__ = ["LocalProvider", "Notification", "Opened", "DeadlineExceeded"]

# MAX_BATCH bounds how many notifications go in one message.
MAX_BATCH = 256


class DeadlineExceeded(Exception):
    """The call's deadline passed while the kit waited (a Prepare waiting for
    the initialize outcome)."""


@dataclass
class Notification:
    handle: int
    name: str
    time_unix_nano: int
    data: bytes
    seq: int


class NotificationQueue:
    """An unbounded FIFO with one consumer at a time: posting never blocks
    and never drops; what was taken but not delivered goes back in front."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: collections.deque[Notification] = collections.deque()
        self._seq = 0
        self._reader: Optional[object] = None

    def push(self, handle: int, name: str, data: bytes) -> None:
        with self._cond:
            self._seq += 1
            self._items.append(Notification(handle, name, time.time_ns(), data, self._seq))
            self._cond.notify_all()

    def requeue(self, batch: list[Notification]) -> None:
        with self._cond:
            self._items.extendleft(reversed(batch))
            self._cond.notify_all()

    def subscribe(self) -> object:
        """Makes the caller the consumer; raises IllegalStateError while
        another one is subscribed."""
        with self._cond:
            if self._reader is not None:
                raise IllegalStateError("notifications already have a consumer")
            token = object()
            self._reader = token
            return token

    def unsubscribe(self, token: object) -> None:
        with self._cond:
            if self._reader is token:
                self._reader = None
            self._cond.notify_all()

    def take(self, token: object, limit: int = MAX_BATCH) -> Optional[list[Notification]]:
        """Blocks until notifications are queued and returns up to limit of
        them, or None once token is no longer the consumer."""
        with self._cond:
            while self._reader is token and not self._items:
                self._cond.wait()
            if self._reader is not token:
                return None
            n = min(limit, len(self._items))
            return [self._items.popleft() for _ in range(n)]

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


@dataclass
class Opened:
    """A stream that new_from_sdp or create built; with a Prepare, whether it
    initialized (else init_error) and its local media."""

    handle: int
    type: str
    stream: "LocalStream"
    initialized: bool = False
    init_error: str = ""
    media: str = ""


class _InitWaiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.name = ""
        self.data = b""

    def set(self, name: str, data: bytes) -> None:
        if not self.event.is_set():
            self.name, self.data = name, data
            self.event.set()


def _contains_fold(values, s: str) -> bool:
    return any(v.lower() == s.lower() for v in values)


class LocalProvider:
    """Runs a Plugin. Its methods raise StreamError subclasses; timeout
    (seconds, None for none) bounds the waits of a Prepare."""

    def __init__(self, plugin: Plugin, log: Optional[logging.Logger] = None) -> None:
        self.plugin = plugin
        self.manifest: Manifest = plugin.manifest()
        self.manifest.validate()
        for t in plugin.types:
            if t.new_from_sdp is None and t.create is None:
                raise InvalidArgumentError(f"plugin {plugin.name}: stream type {t.type!r} has neither new_from_sdp nor create")
        self.log = log or logging.getLogger("sipstreams_plugin")
        self._types = sorted(plugin.types, key=lambda t: -t.priority)
        self._lock = threading.Lock()
        self._next = 0
        self._streams: dict[int, LocalStream] = {}
        self._init_wait: dict[int, _InitWaiter] = {}
        self._closed = False
        self.queue = NotificationQueue()

    # --- notifications

    def post(self, handle: int, name: str, data: Any) -> None:
        try:
            raw = to_json(data)
        except (TypeError, ValueError) as e:
            raw = to_json({"marshal_error": str(e)})
        self.queue.push(handle, name, raw)
        if name in (MEDIA_STREAM_DID_INITIALIZE, MEDIA_STREAM_DID_NOT_INITIALIZE):
            with self._lock:
                w = self._init_wait.get(handle)
            if w is not None:
                w.set(name, raw)

    # --- the Provider calls

    def describe(self) -> Manifest:
        return self.manifest

    def new_from_sdp(self, req: NewFromSDPRequest, timeout: Optional[float] = None) -> Opened:
        _, m = media_at(req.remote_sdp, req.stream_index)
        for t in self._types:
            if t.new_from_sdp is None or not t.match.matches(m):
                continue
            if req.types and not _contains_fold(req.types, t.type):
                continue
            try:
                o = self._open(t, lambda env, t=t: t.new_from_sdp(req, env))
            except UnknownStreamError:
                continue
            if req.prepare is not None:
                self._prepare(o, req.prepare, GetLocalMediaRequest(req.remote_sdp, req.stream_index), timeout)
            return o
        raise UnknownStreamError(f"no stream type of {self.plugin.name} accepts m={m.media} {m.proto}")

    def create(self, req: CreateRequest, timeout: Optional[float] = None) -> Opened:
        for t in self._types:
            if t.type != req.type:
                continue
            if t.create is None:
                raise UnimplementedError(f"stream type {t.type!r} cannot be created for an offer")
            o = self._open(t, lambda env: t.create(req, env))
            if req.prepare is not None:
                self._prepare(o, req.prepare, GetLocalMediaRequest(for_offer=True), timeout)
            return o
        raise UnknownStreamError(f"unknown stream type: {req.type}")

    def invoke(self, req: InvokeRequest) -> bytes:
        fn = self.plugin.methods.get(req.method)
        if fn is None:
            raise UnknownMethodError(f"plugin {self.plugin.name} has no method {req.method!r}")
        env = Env(0, self.post, _adapter(self.log, method=req.method))
        result = self.protect(req.method, lambda: fn(req.args, env))
        return to_json(result)

    def stream(self, handle: int) -> "LocalStream":
        with self._lock:
            s = self._streams.get(handle)
        if s is None:
            raise StreamNotFoundError(f"no stream with handle {handle}")
        return s

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    def close(self) -> None:
        """Ends every live stream, in handle order, then refuses new ones."""
        with self._lock:
            self._closed = True
            live = sorted(self._streams.values(), key=lambda s: s.handle)
        for s in live:
            try:
                s.end()
            except StreamError as e:
                if not isinstance(e, StreamNotFoundError):
                    self.log.warning("ending stream %d on close: %s", s.handle, e)

    # --- internals

    def protect(self, what: str, fn: Callable[[], Any]) -> Any:
        """Runs fn; an exception that is not a StreamError becomes
        InternalError (its traceback goes to the log)."""
        try:
            return fn()
        except StreamError:
            raise
        except DeadlineExceeded:
            raise
        except Exception as e:
            self.log.error("exception in %s:\n%s", what, traceback.format_exc())
            raise InternalError(f"exception in {what}: {type(e).__name__}: {e}") from e

    def _open(self, t: StreamType, build: Callable[[Env], Any]) -> Opened:
        with self._lock:
            if self._closed:
                raise PluginUnavailableError(f"plugin {self.plugin.name} is closing")
            self._next += 1
            h = self._next
        env = Env(h, self.post, _adapter(self.log, stream=h, type=t.type))
        s = self.protect(f"new {t.type}", lambda: build(env))
        if s is None:
            raise InternalError(f"stream type {t.type!r} returned no stream")
        ls = LocalStream(self, h, t.type, s)
        with self._lock:
            self._streams[h] = ls
        return Opened(h, t.type, ls)

    def _prepare(self, o: Opened, p: Prepare, media: GetLocalMediaRequest, timeout: Optional[float]) -> None:
        w = _InitWaiter()
        with self._lock:
            self._init_wait[o.handle] = w
        try:
            o.stream.initialize(InitializeRequest(p.session, p.direction))
            if not w.event.wait(timeout):
                raise DeadlineExceeded(f"stream {o.handle} did not post the outcome of Initialize in time")
            if w.name == MEDIA_STREAM_DID_NOT_INITIALIZE:
                try:
                    reason = json.loads(w.data or b"{}").get("reason", "")
                except ValueError:
                    reason = ""
                o.init_error = reason or "did not initialize"
                return
            o.initialized = True
            if p.local_media:
                o.media = o.stream.get_local_media(media)
        except BaseException:
            # The caller never learns the handle: end the stream.
            try:
                o.stream.end()
            except Exception:
                pass
            raise
        finally:
            with self._lock:
                self._init_wait.pop(o.handle, None)

    def _remove(self, handle: int) -> None:
        with self._lock:
            self._streams.pop(handle, None)


def _adapter(log: logging.Logger, **extra: Any) -> logging.LoggerAdapter:
    return logging.LoggerAdapter(log, extra)


class LocalStream:
    """Serialises the calls to one vendor stream and forgets it once ended;
    checks what the stream returns."""

    def __init__(self, provider: LocalProvider, handle: int, typ: str, stream: Any) -> None:
        self._p = provider
        self.handle = handle
        self.type = typ
        self._s = stream
        self._lock = threading.Lock()
        self._ended = False

    def _do(self, what: str, fn: Callable[[Any], Any]) -> Any:
        with self._lock:
            if self._ended:
                raise StreamNotFoundError(f"stream {self.handle} has ended")
            return self._p.protect(f"{self.type}.{what}", lambda: fn(self._s))

    def initialize(self, req) -> None:
        self._do("initialize", lambda s: s.initialize(req))

    def get_local_media(self, req) -> str:
        media = self._do("get_local_media", lambda s: s.get_local_media(req))
        if not isinstance(media, str) or not media:
            raise InternalError(f"{self.type}.get_local_media returned {type(media).__name__}, not a media section")
        return media

    def start(self, req) -> None:
        self._do("start", lambda s: s.start(req))

    def validate_update(self, req) -> bool:
        return bool(self._do("validate_update", lambda s: s.validate_update(req)))

    def update(self, req) -> None:
        self._do("update", lambda s: s.update(req))

    def hold(self) -> None:
        self._do("hold", lambda s: s.hold())

    def unhold(self) -> None:
        self._do("unhold", lambda s: s.unhold())

    def deactivate(self) -> None:
        self._do("deactivate", lambda s: s.deactivate())

    def end(self) -> None:
        def run(s: Any) -> None:
            try:
                s.end()
            finally:
                self._ended = True

        try:
            self._do("end", run)
        finally:
            if self._ended:
                self._p._remove(self.handle)

    def reset(self, req) -> None:
        self._do("reset", lambda s: s.reset(req))

    def attributes(self) -> Attributes:
        a = self._do("attributes", lambda s: s.attributes())
        return a if a is not None else Attributes()

    def invoke(self, req: InvokeRequest) -> bytes:
        return to_json(self._do("invoke", lambda s: s.invoke(req)))
