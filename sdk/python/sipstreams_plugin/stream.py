"""The stream interface: the Python form of the reference's IMediaStream and
of the Go SDK's sdk.Stream, with the defaults of sdk.UnimplementedStream."""

from __future__ import annotations

from typing import Any

from .errors import UnimplementedError, UnknownMethodError
from .types import (
    Attributes,
    GetLocalMediaRequest,
    InitializeRequest,
    InvokeRequest,
    ResetRequest,
    StartRequest,
    UpdateRequest,
    ValidateUpdateRequest,
)

__all__ = ["Stream"]


class Stream:
    """Subclass it for each stream type; the factories of a StreamType
    return instances.

    The kit serialises the calls to one stream, but a thread the stream
    starts (a socket reader) runs beside them: guard the stream's state with
    a lock of its own. Methods must return promptly: initialize and start
    report their outcome through notifications (MediaStreamDidInitialize /
    MediaStreamDidNotInitialize, MediaStreamDidStart / MediaStreamDidFail),
    as in the reference; Lifecycle posts them.

    initialize, get_local_media, start and end are mandatory (they raise
    UnimplementedError here); the others behave as a stream without the
    feature: hold is a no-op, every update is acceptable, no attributes of
    its own, no methods.
    """

    def initialize(self, req: InitializeRequest) -> None:
        """Joins the stream to a session; post MediaStreamDidInitialize or
        MediaStreamDidNotInitialize."""
        raise UnimplementedError("initialize")

    def get_local_media(self, req: GetLocalMediaRequest) -> str:
        """Returns the local media section ("m=..." and its lines, CRLF
        separated; see sdp.media_section): an offer or an answer."""
        raise UnimplementedError("get_local_media")

    def start(self, req: StartRequest) -> None:
        """Starts the media after negotiation; post MediaStreamDidStart or
        MediaStreamDidFail."""
        raise UnimplementedError("start")

    def validate_update(self, req: ValidateUpdateRequest) -> bool:
        """Tells whether a re-INVITE's SDP is acceptable, changing nothing."""
        return True

    def update(self, req: UpdateRequest) -> None:
        """Applies renegotiated SDP (hold, unhold, address change)."""

    def hold(self) -> None:
        """Puts the stream on hold locally; the next offer reflects it."""

    def unhold(self) -> None:
        """Takes the stream off local hold."""

    def deactivate(self) -> None:
        """First phase of teardown: the transport closing is normal now."""

    def end(self) -> None:
        """Closes the stream; post MediaStreamWillEnd then MediaStreamDidEnd
        (or MediaStreamDidNotInitialize "Interrupted" before initialization
        finished), and nothing after."""
        raise UnimplementedError("end")

    def reset(self, req: ResetRequest) -> None:
        """The remote re-INVITEd without SDP: the next offer starts afresh."""

    def attributes(self) -> Attributes:
        """The hold flags and the type's own attributes (Attributes.extra)."""
        return Attributes()

    def invoke(self, req: InvokeRequest) -> Any:
        """Calls a type-specific method; returns a JSON-able result."""
        raise UnknownMethodError(repr(req.method))
