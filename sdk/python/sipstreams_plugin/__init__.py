"""sipstreams_plugin: write a sipstreams stream plugin in Python.

The Python form of the Go SDK (github.com/sipstreams/sipstreams/sdk): a
Plugin declares stream types with their factories; each stream is a Stream
subclass; serve(plugin) from main speaks go-plugin's handshake (protocol
versions, AutoMTLS, the health service, the line on stdout) and the gRPC
contract (sdk/proto/sipstreams/stream/v1/stream.proto), and answers
`PLUGIN describe` without a handshake. Lifecycle and HoldState do the
bookkeeping every stream shares; sdp parses and builds what a stream needs.

    from sipstreams_plugin import Plugin, StreamType, MatchRule, serve

    PLUGIN = Plugin(name="hello", version="1.0.0", types=[StreamType(
        type="hello", priority=1, match=MatchRule(media=["application"], formats=["x-hello"]),
        new_from_sdp=HelloStream.incoming, create=HelloStream.outgoing)])

    def main():
        serve(PLUGIN)

Package it with `python3 -m sipstreams_plugin.package` into one executable
file for the host's plugin directory; docs/vendors.md is the guide.
"""

from .errors import (
    BusyError,
    ContractVersionError,
    IllegalStateError,
    InternalError,
    InvalidArgumentError,
    InvalidStreamError,
    PluginUnavailableError,
    StreamError,
    StreamNotFoundError,
    UnimplementedError,
    UnknownMethodError,
    UnknownStreamError,
)
from .lifecycle import (
    MEDIA_STREAM_DID_END,
    MEDIA_STREAM_DID_FAIL,
    MEDIA_STREAM_DID_INITIALIZE,
    MEDIA_STREAM_DID_NOT_INITIALIZE,
    MEDIA_STREAM_DID_START,
    MEDIA_STREAM_WILL_END,
    REASON_INTERRUPTED,
    Lifecycle,
    State,
    reason_of,
)
from .sdp import HoldState, HoldStateData
from .goplugin import serve
from .stream import Stream
from .types import (
    CONTRACT_MAJOR,
    CONTRACT_MINOR,
    DIRECTION_INCOMING,
    DIRECTION_OUTGOING,
    Account,
    Attributes,
    CreateRequest,
    Env,
    GetLocalMediaRequest,
    InitializeRequest,
    InvokeRequest,
    Manifest,
    MatchRule,
    NewFromSDPRequest,
    Plugin,
    Prepare,
    ResetRequest,
    SessionInfo,
    StartRequest,
    StreamType,
    UpdateRequest,
    ValidateUpdateRequest,
)


def build_version(default: str = "dev") -> str:
    """The version the packager stamped into the plugin (`package
    --version`, as `go build -ldflags -X main.version=` does), else default."""
    try:
        from _sipstreams_build import VERSION  # written by sipstreams_plugin.package
    except ImportError:
        return default
    return VERSION


__all__ = [name for name in dir() if not name.startswith("_")]
