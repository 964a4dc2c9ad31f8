"""The gRPC side: the contract's MediaStream service over a LocalProvider,
and the services go-plugin expects beside it: grpc.health.v1.Health (the
host pings "plugin"), plugin.GRPCController (Shutdown) and plugin.GRPCStdio
(an empty stdio stream: a Python plugin's stdout is not forwarded)."""

from __future__ import annotations

import functools
import queue
import threading
import time
from typing import Any, Callable, Optional

import grpc

from sipstreams.stream.v1 import stream_pb2 as pb
from sipstreams.stream.v1 import stream_pb2_grpc as pb_grpc

from .errors import STATUS_CODES, StreamError, decode_fields, encode_plain_status, encode_status, normalize
from .provider import DeadlineExceeded, LocalProvider, Opened
from .types import (
    Account,
    CreateRequest,
    GetLocalMediaRequest,
    InitializeRequest,
    InvokeRequest,
    Manifest,
    NewFromSDPRequest,
    Prepare,
    ResetRequest,
    SessionInfo,
    StartRequest,
    UpdateRequest,
    ValidateUpdateRequest,
    from_json,
    to_json,
)

__all__ = ["add_services", "HEALTH_SERVICE", "PLUGIN_SERVICE_NAME"]

# go-plugin's health check asks for this service name.
PLUGIN_SERVICE_NAME = "plugin"
HEALTH_SERVICE = "grpc.health.v1.Health"

_CODES = {c.value[0]: c for c in grpc.StatusCode}


class _Status(grpc.Status):
    """A status with the google.rpc.Status the Go SDK decodes in its
    grpc-status-details-bin trailer."""

    def __init__(self, err: StreamError) -> None:
        self.code = _CODES[STATUS_CODES[err.CODE]]
        self.details = str(err)
        self.trailing_metadata = (("grpc-status-details-bin", encode_status(err)),)


def _rpc(fn: Callable) -> Callable:
    """Maps what a unary handler raises to the contract's statuses."""

    @functools.wraps(fn)
    def wrapper(self: "MediaStreamServicer", request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(self, request, context)
        except DeadlineExceeded as e:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(e))
        except Exception as e:
            err = normalize(e, fn.__name__)
            if not isinstance(e, StreamError):
                self._p.log.exception("unexpected exception in %s", fn.__name__)
            context.abort_with_status(_Status(err))

    return wrapper


def _timeout(context: grpc.ServicerContext) -> Optional[float]:
    t = context.time_remaining()
    return None if t is None else max(t, 0.0)


def match_to_pb(m) -> pb.MatchRule:
    return pb.MatchRule(media=m.media, protos=m.protos, accept_types=m.accept_types, rtpmap_names=m.rtpmap_names, formats=m.formats)


def manifest_to_pb(m: Manifest) -> pb.Manifest:
    return pb.Manifest(
        name=m.name,
        version=m.version,
        contract_major=m.contract_major,
        contract_minor=m.contract_minor,
        capabilities=m.capabilities,
        methods=m.methods,
        stream_types=[
            pb.StreamType(type=t.type, priority=t.priority, hold_supported=t.hold_supported, match=match_to_pb(t.match), codecs=t.codecs)
            for t in m.stream_types
        ],
    )


def account_from_pb(msg: Any, present: bool) -> Optional[Account]:
    if not present:
        return None
    return Account(id=msg.id, uri=msg.uri, display_name=msg.display_name, settings=dict(msg.settings))


def session_from_pb(msg: Any, present: bool) -> Optional[SessionInfo]:
    if not present:
        return None
    return SessionInfo(
        id=msg.id,
        direction=msg.direction,
        local_identity=msg.local_identity,
        remote_identity=msg.remote_identity,
        local_focus=msg.local_focus,
        remote_focus=msg.remote_focus,
        local_ip=msg.local_ip,
    )


def prepare_from_pb(msg: Any, present: bool) -> Optional[Prepare]:
    if not present:
        return None
    return Prepare(session_from_pb(msg.session, msg.HasField("session")), msg.direction, msg.local_media)


def opened_to_pb(o: Opened) -> pb.NewStreamResponse:
    return pb.NewStreamResponse(handle=o.handle, type=o.type, initialized=o.initialized, init_error=o.init_error, media=o.media)


_EMPTY = pb.Empty()


class MediaStreamServicer(pb_grpc.MediaStreamServicer):
    """Serves a LocalProvider over the contract."""

    def __init__(self, provider: LocalProvider) -> None:
        self._p = provider

    @_rpc
    def Describe(self, request, context):
        return manifest_to_pb(self._p.describe())

    @_rpc
    def NewFromSDP(self, request, context):
        req = NewFromSDPRequest(
            types=list(request.types),
            account=account_from_pb(request.account, request.HasField("account")),
            remote_sdp=request.remote_sdp,
            stream_index=request.stream_index,
            prepare=prepare_from_pb(request.prepare, request.HasField("prepare")),
        )
        return opened_to_pb(self._p.new_from_sdp(req, _timeout(context)))

    @_rpc
    def Create(self, request, context):
        req = CreateRequest(
            type=request.type,
            account=account_from_pb(request.account, request.HasField("account")),
            params=from_json(request.params, "parameters"),
            prepare=prepare_from_pb(request.prepare, request.HasField("prepare")),
        )
        return opened_to_pb(self._p.create(req, _timeout(context)))

    @_rpc
    def GetLocalMedia(self, request, context):
        req = GetLocalMediaRequest(request.remote_sdp, request.stream_index, request.for_offer)
        return pb.GetLocalMediaResponse(media=self._p.stream(request.handle).get_local_media(req))

    @_rpc
    def Initialize(self, request, context):
        req = InitializeRequest(session_from_pb(request.session, request.HasField("session")), request.direction)
        self._p.stream(request.handle).initialize(req)
        return _EMPTY

    @_rpc
    def Start(self, request, context):
        req = StartRequest(
            request.local_sdp, request.remote_sdp, request.stream_index, session_from_pb(request.session, request.HasField("session"))
        )
        self._p.stream(request.handle).start(req)
        return _EMPTY

    @_rpc
    def ValidateUpdate(self, request, context):
        ok = self._p.stream(request.handle).validate_update(ValidateUpdateRequest(request.remote_sdp, request.stream_index))
        return pb.ValidateUpdateResponse(ok=ok)

    @_rpc
    def Update(self, request, context):
        self._p.stream(request.handle).update(UpdateRequest(request.local_sdp, request.remote_sdp, request.stream_index))
        return _EMPTY

    @_rpc
    def Hold(self, request, context):
        self._p.stream(request.handle).hold()
        return _EMPTY

    @_rpc
    def Unhold(self, request, context):
        self._p.stream(request.handle).unhold()
        return _EMPTY

    @_rpc
    def Deactivate(self, request, context):
        self._p.stream(request.handle).deactivate()
        return _EMPTY

    @_rpc
    def End(self, request, context):
        stream = self._p.stream(request.handle)
        if request.deactivate_first:
            # Contract 1.3: Deactivate then End in one call; Deactivate's
            # error is the host's to ignore, as it does after its own call.
            try:
                stream.deactivate()
            except Exception:  # noqa: BLE001 - the stream ends anyway
                pass
        stream.end()
        return _EMPTY

    @_rpc
    def Reset(self, request, context):
        self._p.stream(request.handle).reset(ResetRequest(request.stream_index))
        return _EMPTY

    @_rpc
    def Attributes(self, request, context):
        a = self._p.stream(request.handle).attributes()
        return pb.StreamAttributes(
            hold_supported=a.hold_supported,
            on_hold_by_local=a.on_hold_by_local,
            on_hold_by_remote=a.on_hold_by_remote,
            extra=to_json(a.extra),
        )

    @_rpc
    def Invoke(self, request, context):
        req = InvokeRequest(request.method, from_json(request.args))
        if request.handle == 0:
            return pb.InvokeResponse(result=self._p.invoke(req))
        return pb.InvokeResponse(result=self._p.stream(request.handle).invoke(req))

    def Calls(self, request_iterator, context):
        return _serve_calls(self, request_iterator, context)

    def Notifications(self, request, context):
        """Streams the queued notifications in batches. A batch counts as
        delivered once gRPC asks for the next one (it has sent the previous
        one by then); one that was not goes back to the front of the queue
        for the next consumer."""
        q = self._p.queue
        try:
            token = q.subscribe()
        except StreamError as e:
            context.abort_with_status(_Status(e))
        if not context.add_callback(lambda: q.unsubscribe(token)):
            q.unsubscribe(token)
            return
        pending = None
        try:
            while True:
                pending = None
                batch = q.take(token)
                if batch is None:
                    return
                pending = batch
                yield pb.NotificationBatch(
                    notifications=[
                        pb.Notification(handle=n.handle, name=n.name, time_unix_nano=n.time_unix_nano, data=n.data, seq=n.seq)
                        for n in batch
                    ]
                )
        finally:
            if pending:
                q.requeue(pending)
            q.unsubscribe(token)


class _CallAborted(Exception):
    """Raised by _CallContext.abort: carries the serialized google.rpc.Status."""

    def __init__(self, status: bytes) -> None:
        super().__init__()
        self.status = status


class _CallContext:
    """The part of grpc.ServicerContext that the unary handlers use, for a
    call carried by the Calls stream: its deadline, and abort, which ends
    the handler with a status instead of ending an RPC."""

    def __init__(self, timeout_us: int) -> None:
        self._deadline = time.monotonic() + timeout_us / 1e6 if timeout_us > 0 else None
        self.cancelled = False

    def time_remaining(self) -> Optional[float]:
        return None if self._deadline is None else max(self._deadline - time.monotonic(), 0.0)

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise _CallAborted(encode_plain_status(code.value[0], details))

    def abort_with_status(self, status: grpc.Status) -> None:
        for key, value in status.trailing_metadata or ():
            if key == "grpc-status-details-bin":
                raise _CallAborted(value)
        raise _CallAborted(encode_plain_status(status.code.value[0], status.details))


def _serve_calls(servicer: "MediaStreamServicer", request_iterator: Any, context: grpc.ServicerContext):
    """The Calls stream of contract 1.2: each call runs on a thread of its
    own, as a unary call would on the server's pool, and its Result goes back
    as it finishes; what finished while a ResultBatch was being written goes
    in the next. When the host closes its side, the calls in flight are
    answered before the stream ends."""
    results: "queue.Queue[Optional[pb.Result]]" = queue.Queue()
    running: dict[int, _CallContext] = {}
    lock = threading.Lock()
    idle = threading.Condition(lock)  # notified when a call ends
    active = [0]  # calls whose thread has not ended

    def run(call: Any, ctx: _CallContext) -> None:
        res = pb.Result(id=call.id)
        try:
            method = getattr(servicer, call.method, None)
            req_type = _UNARY.get(call.method)
            if method is None or req_type is None:
                raise _CallAborted(encode_plain_status(grpc.StatusCode.UNIMPLEMENTED.value[0], f"unknown method {call.method!r}"))
            req = req_type()
            req.ParseFromString(call.request)
            res.response = method(req, ctx).SerializeToString()
        except _CallAborted as e:
            res.status = e.status
        except Exception as e:  # what _rpc did not map: the handler's own bug
            res.status = encode_plain_status(grpc.StatusCode.INTERNAL.value[0], f"{call.method}: {e}")
        finally:
            results.put(res)
            with lock:
                running.pop(call.id, None)
                active[0] -= 1
                idle.notify_all()

    def read() -> None:
        try:
            for batch in request_iterator:
                for call in batch.calls:
                    if call.cancel:
                        with lock:
                            c = running.get(call.id)
                        if c is not None:
                            c.cancelled = True
                        continue
                    ctx = _CallContext(call.timeout_us)
                    with lock:
                        running[call.id] = ctx
                        active[0] += 1
                    threading.Thread(target=run, args=(call, ctx), name="call", daemon=True).start()
        except Exception:  # the stream ended under us: nothing more to read
            pass
        finally:
            with lock:
                idle.wait_for(lambda: active[0] == 0)
            results.put(None)

    reader = threading.Thread(target=read, name="calls", daemon=True)
    reader.start()
    while True:
        first = results.get()
        if first is None:
            return
        batch = [first]
        done = False
        while True:
            try:
                more = results.get_nowait()
            except queue.Empty:
                break
            if more is None:
                done = True
                break
            batch.append(more)
        yield pb.ResultBatch(results=batch)
        if done:
            return


def _identity(b: bytes) -> bytes:
    return b


def _health_check(request: bytes, context: grpc.ServicerContext) -> bytes:
    try:
        fields = decode_fields(request)
    except ValueError:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "malformed HealthCheckRequest")
    service = fields.get(1, [b""])[0].decode(errors="replace")
    if service not in ("", PLUGIN_SERVICE_NAME):
        context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {service!r}")
    return b"\x08\x01"  # HealthCheckResponse{status: SERVING}


# The request message of each unary method, for calls carried by Calls.
_UNARY = {
    "Describe": pb.DescribeRequest,
    "NewFromSDP": pb.NewFromSDPRequest,
    "Create": pb.CreateRequest,
    "GetLocalMedia": pb.GetLocalMediaRequest,
    "Initialize": pb.InitializeRequest,
    "Start": pb.StartRequest,
    "ValidateUpdate": pb.ValidateUpdateRequest,
    "Update": pb.UpdateRequest,
    "Hold": pb.HandleRequest,
    "Unhold": pb.HandleRequest,
    "Deactivate": pb.HandleRequest,
    "End": pb.HandleRequest,
    "Reset": pb.ResetRequest,
    "Attributes": pb.HandleRequest,
    "Invoke": pb.InvokeRequest,
}


def add_services(server: grpc.Server, provider: LocalProvider, shutdown: threading.Event, *, health: bool = True) -> None:
    """Registers the contract service and go-plugin's services on server.
    shutdown is set when the host asks the plugin to stop."""
    pb_grpc.add_MediaStreamServicer_to_server(MediaStreamServicer(provider), server)

    def stop(request: bytes, context: grpc.ServicerContext) -> bytes:
        shutdown.set()
        return b""

    def stdio(request: bytes, context: grpc.ServicerContext):
        return iter(())

    handlers = [
        grpc.method_handlers_generic_handler(
            "plugin.GRPCController",
            {"Shutdown": grpc.unary_unary_rpc_method_handler(stop, request_deserializer=_identity, response_serializer=_identity)},
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCStdio",
            {"StreamStdio": grpc.unary_stream_rpc_method_handler(stdio, request_deserializer=_identity, response_serializer=_identity)},
        ),
    ]
    if health:
        handlers.append(
            grpc.method_handlers_generic_handler(
                HEALTH_SERVICE,
                {"Check": grpc.unary_unary_rpc_method_handler(_health_check, request_deserializer=_identity, response_serializer=_identity)},
            )
        )
    server.add_generic_rpc_handlers(tuple(handlers))
