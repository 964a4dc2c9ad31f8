"""The pyecho stream: a UDP ping/echo flow negotiated with SDP, the Python
twin of the Go echo stream (sdk/examples/echo/echostream/stream.go)."""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Optional

from sipstreams_plugin import (
    Account,
    Env,
    GetLocalMediaRequest,
    HoldState,
    IllegalStateError,
    InitializeRequest,
    InternalError,
    InvalidArgumentError,
    InvalidStreamError,
    InvokeRequest,
    Lifecycle,
    SessionInfo,
    StartRequest,
    State,
    Stream,
    UnknownStreamError,
    UpdateRequest,
    ValidateUpdateRequest,
    reason_of,
)
from sipstreams_plugin import sdp

from . import datagram

# Names of the stream type, its SDP, its account setting.
TYPE = "pyecho"
PRIORITY = 4
FORMAT = "x-sipstreams-pyecho"
SETTING_PORT = "pyecho.port"

# Notifications besides the generic MediaStream* ones.
GOT_PING = "PyEchoStreamGotPing"
GOT_ECHO = "PyEchoStreamGotEcho"
HOLD_STATE = "PyEchoStreamDidChangeHoldState"
TICK = "PyEchoTick"

MAX_PENDING = 1024


@dataclass
class Counters:
    packets_sent: int = 0
    packets_received: int = 0
    bad_packets: int = 0
    pings_sent: int = 0
    pings_received: int = 0
    echoes_received: int = 0


def match_rule():
    from sipstreams_plugin import MatchRule

    return MatchRule(media=["application"], protos=["UDP"], formats=[FORMAT])


class _Removed(InvalidStreamError):
    """The remote m-line is refused or removed (port 0)."""


def parse_remote(text: str, index: int) -> sdp.Endpoint:
    """Where the remote's echo m-line index sends from, and its direction;
    UnknownStreamError when it is not an echo m-line, InvalidStreamError
    when it cannot be used, _Removed at port 0."""
    s, m = sdp.media_at(text, index)
    if not match_rule().matches(m):
        raise UnknownStreamError(f"m-line {index} is not a {TYPE} stream")
    remote = sdp.parse_endpoint(s, m)
    if remote.removed:
        raise _Removed("the remote m-line is refused or removed (port 0)")
    return remote


def negotiate(local_sdp: str, remote_sdp: str, index: int) -> tuple[sdp.Endpoint, str]:
    """The remote's end and our negotiated direction after an exchange."""
    remote = parse_remote(remote_sdp, index)
    ls, lm = sdp.media_at(local_sdp, index)
    return remote, sdp.negotiated_direction(sdp.direction(ls, lm), remote.direction)


class EchoStream(Stream):
    """One pyecho stream. The kit serialises its methods; the reader thread
    runs beside them, so _lock guards everything below, the Lifecycle and
    the HoldState included. Posting never blocks: notifications go out with
    the lock held, in the order of the state changes."""

    def __init__(self, env: Env, account: Optional[Account]) -> None:
        self.env = env
        self.account = account or Account()
        self._lock = threading.Lock()
        self.life = Lifecycle(env.post)
        self.hold_state = HoldState(env.post, HOLD_STATE)
        self.sock: Optional[socket.socket] = None
        self.local: Optional[tuple[str, int]] = None
        self.remote: Optional[tuple[str, int]] = None
        self.last_seq = 0
        self.pending: dict[int, int] = {}
        self.counters = Counters()
        # The reader waits on the socket and on this pair: End writes to
        # it, so the reader stops without polling.
        self._wake_r, self._wake_w = socket.socketpair()

    # factories

    @classmethod
    def incoming(cls, req, env: Env) -> "EchoStream":
        remote = parse_remote(req.remote_sdp, req.stream_index)
        s = cls(env, req.account)
        s.remote = remote.peer()
        return s

    @classmethod
    def outgoing(cls, req, env: Env) -> "EchoStream":
        return cls(env, req.account)

    # the stream

    def initialize(self, req: InitializeRequest) -> None:
        with self._lock:
            self.life.initialize(lambda: self._listen(req))

    def _listen(self, req: InitializeRequest) -> None:
        ip = (req.session or SessionInfo()).local_addr()
        setting = self.account.setting(SETTING_PORT, "0")
        if not setting.isdigit() or int(setting) > 65535:
            raise InvalidArgumentError(f"setting {SETTING_PORT}={setting!r} is not a port number")
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((str(ip), int(setting)))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.local = (str(ip), sock.getsockname()[1])

    def get_local_media(self, req: GetLocalMediaRequest) -> str:
        with self._lock:
            self.life.check("GetLocalMedia", State.INITIALIZED, State.STARTED)
            d = self.hold_state.offer()
            if not req.for_offer and req.remote_sdp:
                d = self.hold_state.answer(parse_remote(req.remote_sdp, req.stream_index).direction)
            return sdp.media_section("application", self.local[1], "UDP", [FORMAT], self.local[0], [(d, None)])

    def start(self, req: StartRequest) -> None:
        with self._lock:
            self.life.starting()
            try:
                remote, d = negotiate(req.local_sdp, req.remote_sdp, req.stream_index)
            except Exception as e:
                self.life.fail("start", reason_of(e))
                return
            self.remote = remote.peer()
            self.life.spawn(self._read, name=f"pyecho-{self.env.handle}")
            self.life.defer(lambda: self._wake_w.send(b"x"))
            self.life.started()
            self.hold_state.negotiated(d)

    def validate_update(self, req: ValidateUpdateRequest) -> bool:
        try:
            parse_remote(req.remote_sdp, req.stream_index)
        except _Removed:
            return True
        except Exception:
            return False
        return True

    def update(self, req: UpdateRequest) -> None:
        with self._lock:
            self.life.check("Update", State.STARTED)
            try:
                remote, d = negotiate(req.local_sdp, req.remote_sdp, req.stream_index)
            except _Removed:
                return  # the session ends the stream next
            self.remote = remote.peer()
            self.hold_state.negotiated(d)

    def hold(self) -> None:
        with self._lock:
            self.hold_state.request(True)

    def unhold(self) -> None:
        with self._lock:
            self.hold_state.request(False)

    def deactivate(self) -> None:
        with self._lock:
            self.life.deactivate()

    def end(self) -> None:
        # The Lifecycle posts the notifications, wakes the reader (the
        # cleanup registered in start), joins it, then calls _release.
        self.life.end(self._lock, lambda prev: self._release)

    def _release(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self._wake_r.close()
        self._wake_w.close()

    def attributes(self):
        with self._lock:
            extra = {
                "local_address": _addr(self.local),
                "remote_address": _addr(self.remote),
                "direction": self.hold_state.direction,
                **asdict(self.counters),
            }
            return self.hold_state.attributes(extra)

    def invoke(self, req: InvokeRequest):
        if req.method == "send":
            args = req.args or {}
            if not isinstance(args, dict) or not isinstance(args.get("payload", ""), str):
                raise InvalidArgumentError('send takes {"payload": "text"}')
            return {"seq": self._send(args.get("payload", ""))}
        if req.method == "stats":
            with self._lock:
                return asdict(self.counters)
        return super().invoke(req)

    # the media

    def _send(self, payload: str) -> int:
        if len(payload.encode()) > datagram.MAX_PAYLOAD:
            raise InvalidArgumentError(f"payload of {len(payload.encode())} bytes exceeds {datagram.MAX_PAYLOAD}")
        with self._lock:
            if not self.life.active or not self.hold_state.may_send() or self.remote is None:
                raise IllegalStateError(
                    f"stream may not send (state {self.life.state}, direction {self.hold_state.direction}, "
                    f"hold requested {self.hold_state.requested}, closing {self.life.closing})"
                )
            seq = self.last_seq + 1
            self.pending[seq] = time.monotonic_ns()
            try:
                self.sock.sendto(datagram.Datagram(datagram.PING, seq, payload).marshal(), self.remote)
            except OSError as e:
                del self.pending[seq]
                raise InternalError(f"send to {_addr(self.remote)}: {e}") from None
            self.last_seq = seq
            self.pending.pop(seq - MAX_PENDING, None)
            self.counters.packets_sent += 1
            self.counters.pings_sent += 1
            return seq

    def _read(self, stop: threading.Event) -> None:
        """The stream's one thread: receives datagrams until end wakes it."""
        while not stop.is_set():
            try:
                ready, _, _ = select.select([self.sock, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                b, src = self.sock.recvfrom(65535)
            except BlockingIOError:
                continue
            except OSError as e:
                with self._lock:
                    self.life.transport_closed("reading", str(e))
                return
            self._receive(b, (_unmap(src[0]), src[1]))

    def _receive(self, b: bytes, src: tuple[str, int]) -> None:
        try:
            d = datagram.parse(b)
        except datagram.MalformedDatagram:
            d = None
        with self._lock:
            self.counters.packets_received += 1
            if d is None:
                self.counters.bad_packets += 1
                return
            if d.kind == datagram.PING:
                self.counters.pings_received += 1
                answer = self.life.active and self.hold_state.may_send()
                self.env.post(GOT_PING, {"seq": d.seq, "payload": d.payload, "from": _addr(src), "answered": answer})
                if not answer:
                    return
                try:
                    self.sock.sendto(datagram.Datagram(datagram.PONG, d.seq, d.payload).marshal(), src)
                    self.counters.packets_sent += 1
                except OSError:
                    pass  # the peer's loss, not ours
                return
            sent = self.pending.pop(d.seq, None)
            if sent is None:
                self.counters.bad_packets += 1  # not an echo of ours
                return
            self.counters.echoes_received += 1
            self.env.post(
                GOT_ECHO, {"seq": d.seq, "payload": d.payload, "from": _addr(src), "rtt_ns": time.monotonic_ns() - sent}
            )


def _unmap(host: str) -> str:
    if host.startswith("::ffff:") and "." in host:
        return host[len("::ffff:") :]
    return host


def _addr(a: Optional[tuple[str, int]]) -> str:
    if a is None:
        return ""
    host, port = a[0], a[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
