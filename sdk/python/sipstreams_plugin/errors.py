"""Errors of the plugin contract.

Each error class is one of the Go SDK's sentinels (sdk.ErrInvalidStream,
...). Raise one from a stream, a factory or a method: it crosses the gRPC
boundary with the status code and the google.rpc.ErrorInfo reason that the Go
SDK reads back, so on the host errors.Is(err, sdk.ErrInvalidStream) holds
whether the stream is written in Go or in Python. Any other exception
becomes InternalError, with its text as the reason.
"""

from __future__ import annotations

__all__ = [
    "StreamError",
    "UnknownStreamError",
    "InvalidStreamError",
    "StreamNotFoundError",
    "IllegalStateError",
    "UnimplementedError",
    "UnknownMethodError",
    "InvalidArgumentError",
    "PluginUnavailableError",
    "InternalError",
    "ContractVersionError",
    "BusyError",
    "normalize",
    "encode_status",
    "encode_plain_status",
    "ERROR_DOMAIN",
]

# ERROR_DOMAIN is google.rpc.ErrorInfo.domain of every contract error.
ERROR_DOMAIN = "sipstreams"


class StreamError(Exception):
    """An error of one of the contract's kinds, with a human-readable reason.

    KIND is the wire reason (ErrorInfo.reason), CODE the gRPC status code
    name, TEXT the Go sentinel's text that prefixes the reason.
    """

    KIND = "INTERNAL"
    CODE = "INTERNAL"
    TEXT = "internal plugin error"

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.TEXT}: {self.reason}" if self.reason else self.TEXT


class UnknownStreamError(StreamError):
    """Not my type: the host tries the next stream type (UnknownStreamError)."""

    KIND, CODE, TEXT = "UNKNOWN_STREAM", "NOT_FOUND", "unknown stream"


class InvalidStreamError(StreamError):
    """My type, but unacceptable: the m-line is refused (InvalidStreamError)."""

    KIND, CODE, TEXT = "INVALID_STREAM", "INVALID_ARGUMENT", "invalid stream"


class StreamNotFoundError(StreamError):
    """The stream handle is not, or no longer, known."""

    KIND, CODE, TEXT = "STREAM_NOT_FOUND", "NOT_FOUND", "stream not found"


class IllegalStateError(StreamError):
    """The call is not allowed in the stream's state."""

    KIND, CODE, TEXT = "ILLEGAL_STATE", "FAILED_PRECONDITION", "illegal state"


class UnimplementedError(StreamError):
    """A mandatory method is not implemented (the base Stream raises it)."""

    KIND, CODE, TEXT = "NOT_IMPLEMENTED", "UNIMPLEMENTED", "not implemented"


class UnknownMethodError(StreamError):
    """Invoke was asked for a method the stream or plugin does not serve."""

    KIND, CODE, TEXT = "UNKNOWN_METHOD", "NOT_FOUND", "unknown method"


class InvalidArgumentError(StreamError):
    """A request's arguments are malformed."""

    KIND, CODE, TEXT = "INVALID_ARGUMENT", "INVALID_ARGUMENT", "invalid argument"


class PluginUnavailableError(StreamError):
    """The plugin is closing or cannot serve."""

    KIND, CODE, TEXT = "PLUGIN_UNAVAILABLE", "UNAVAILABLE", "plugin unavailable"


class InternalError(StreamError):
    """A failure inside the plugin, such as an unexpected exception."""

    KIND, CODE, TEXT = "INTERNAL", "INTERNAL", "internal plugin error"


class BusyError(StreamError):
    """My type, acceptable, but not now: a resource limit of the plugin
    (streams alive, ports) is reached. The host answers a session refused
    for this alone 503 with Retry-After."""

    KIND, CODE, TEXT = "BUSY", "RESOURCE_EXHAUSTED", "busy"


class ContractVersionError(StreamError):
    """Host and plugin speak incompatible contract versions."""

    KIND, CODE, TEXT = "CONTRACT_VERSION", "FAILED_PRECONDITION", "contract version mismatch"


def normalize(exc: BaseException, what: str = "") -> StreamError:
    """Returns exc as a StreamError: itself when it is one, else InternalError
    naming the exception (and what was running, when given)."""
    if isinstance(exc, StreamError):
        return exc
    prefix = f"{what}: " if what else ""
    return InternalError(f"{prefix}{type(exc).__name__}: {exc}")


# gRPC status code numbers (grpc/status codes), so this module does not
# import grpc: `PLUGIN describe` runs without it.
STATUS_CODES = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def encode_status(err: StreamError) -> bytes:
    """Returns the google.rpc.Status carrying err, serialized: the value of
    the grpc-status-details-bin trailer that the Go SDK decodes.

    Status{code, message, details: [Any{ErrorInfo{reason, domain,
    metadata{"reason": human reason}}}]} is encoded by hand: five fields do
    not need generated code, and a vendor's environment may hold its own
    copy of the google.rpc messages.
    """
    entry = _field_bytes(1, b"reason") + _field_bytes(2, err.reason.encode())
    info = _field_bytes(1, err.KIND.encode()) + _field_bytes(2, ERROR_DOMAIN.encode()) + _field_bytes(3, entry)
    any_msg = _field_bytes(1, b"type.googleapis.com/google.rpc.ErrorInfo") + _field_bytes(2, info)
    status = _field_varint(1, STATUS_CODES[err.CODE]) + _field_bytes(2, str(err).encode()) + _field_bytes(3, any_msg)
    return status


def encode_plain_status(code: int, message: str) -> bytes:
    """Returns a google.rpc.Status with a code and a message and no details,
    serialized (a status the contract's errors do not describe: a deadline,
    an unknown method)."""
    return _field_varint(1, code) + _field_bytes(2, message.encode())


def decode_fields(data: bytes) -> dict[int, list]:
    """Decodes a protobuf message into {field number: [values]}: ints for
    varints, bytes for length-delimited fields. Enough for the few small
    messages of go-plugin's services; it raises ValueError on anything else."""
    out: dict[int, list] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            if i >= len(data) or shift > 63:
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.setdefault(number, []).append(varint())
        elif wire == 2:
            n = varint()
            if i + n > len(data):
                raise ValueError("truncated field")
            out.setdefault(number, []).append(data[i : i + n])
            i += n
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out
