"""The plugin's declaration and the requests and answers of the contract,
as the Go SDK's sdk.Plugin, sdk.StreamType and request structs (snake_case
fields of the same names)."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import ContractVersionError, InvalidArgumentError

__all__ = [
    "CONTRACT_MAJOR",
    "CONTRACT_MINOR",
    "DIRECTION_INCOMING",
    "DIRECTION_OUTGOING",
    "DEFAULT_LOCAL_IP",
    "MatchRule",
    "StreamType",
    "Plugin",
    "Manifest",
    "StreamTypeInfo",
    "Account",
    "SessionInfo",
    "Prepare",
    "NewFromSDPRequest",
    "CreateRequest",
    "GetLocalMediaRequest",
    "InitializeRequest",
    "StartRequest",
    "ValidateUpdateRequest",
    "UpdateRequest",
    "ResetRequest",
    "InvokeRequest",
    "Attributes",
    "Env",
    "to_json",
    "from_json",
]

# The contract version this kit implements (sdk.ContractMajor/Minor). The
# major version is go-plugin's protocol version: host and plugin must agree.
# Minor 1: StartRequest.session. Minor 2: the Calls stream (unary calls
# batched on one stream). Minor 3: End's deactivate_first (Deactivate then
# End in one call).
CONTRACT_MAJOR = 1
CONTRACT_MINOR = 3

# Values of InitializeRequest.direction and SessionInfo.direction.
DIRECTION_INCOMING = "incoming"
DIRECTION_OUTGOING = "outgoing"

# The address a stream binds when its session names none.
DEFAULT_LOCAL_IP = "127.0.0.1"


def to_json(value: Any) -> bytes:
    """Marshals value for a notification's data, a method's result, the
    attributes' extra: None gives b"" (no value), dataclasses become objects."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode()


def _json_default(o: Any) -> Any:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def from_json(raw: bytes, what: str = "arguments") -> Any:
    """Decodes a JSON value from the wire; empty gives None. Malformed JSON
    raises InvalidArgumentError."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise InvalidArgumentError(f"{what} are not JSON: {e}") from None


@dataclass
class MatchRule:
    """Which m-lines a stream type may accept: every non-empty field must
    match (case-insensitively; "*" matches anything); an empty field matches
    anything. The host prefilters incoming offers with it."""

    media: list[str] = field(default_factory=list)
    protos: list[str] = field(default_factory=list)
    accept_types: list[str] = field(default_factory=list)
    rtpmap_names: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: list(v) for k, v in dataclasses.asdict(self).items() if v}

    def matches(self, media) -> bool:
        """Reports whether the m-line media (an sdp.Media) satisfies the rule."""
        from .sdp import match

        return match(self, media)


@dataclass
class StreamType:
    """One stream type and how to build its streams. new_from_sdp(req, env)
    builds a stream for an incoming m-line (raise UnknownStreamError for "not
    mine", InvalidStreamError for "mine but unacceptable"); create(req, env)
    builds one for an outgoing offer. Either may be None."""

    type: str
    priority: int = 0
    hold_supported: bool = False
    match: MatchRule = field(default_factory=MatchRule)
    codecs: list[str] = field(default_factory=list)
    new_from_sdp: Optional[Callable[["NewFromSDPRequest", "Env"], Any]] = None
    create: Optional[Callable[["CreateRequest", "Env"], Any]] = None


@dataclass
class StreamTypeInfo:
    """A stream type as the manifest describes it."""

    type: str
    priority: int = 0
    hold_supported: bool = False
    match: MatchRule = field(default_factory=MatchRule)
    codecs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {"type": self.type, "priority": self.priority, "hold_supported": self.hold_supported, "match": self.match.to_dict()}
        if self.codecs:
            d["codecs"] = list(self.codecs)
        return d


@dataclass
class Manifest:
    """What `PLUGIN describe` prints and Describe returns."""

    name: str
    version: str
    contract_major: int = CONTRACT_MAJOR
    contract_minor: int = CONTRACT_MINOR
    capabilities: list[str] = field(default_factory=list)
    stream_types: list[StreamTypeInfo] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    def validate(self) -> None:
        """Raises unless a host of this contract can use the manifest (the Go
        SDK's Manifest.Validate)."""
        if not self.name:
            raise InvalidArgumentError("manifest has no name")
        if self.contract_major != CONTRACT_MAJOR:
            raise ContractVersionError(
                f"plugin {self.name} speaks contract {self.contract_major}.{self.contract_minor}, "
                f"host speaks {CONTRACT_MAJOR}.{CONTRACT_MINOR}"
            )
        if not self.stream_types:
            raise InvalidArgumentError(f"plugin {self.name} declares no stream type")
        seen = set()
        for t in self.stream_types:
            if not t.type:
                raise InvalidArgumentError(f"plugin {self.name} declares a stream type without a name")
            if t.type in seen:
                raise InvalidArgumentError(f"plugin {self.name} declares stream type {t.type!r} twice")
            seen.add(t.type)
            if not t.match.media:
                raise InvalidArgumentError(f"plugin {self.name}: stream type {t.type!r} has no media in its match rule")

    def to_dict(self) -> dict:
        """The manifest as the Go SDK marshals it (omitempty fields left out)."""
        d: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "contract_major": self.contract_major,
            "contract_minor": self.contract_minor,
        }
        if self.capabilities:
            d["capabilities"] = list(self.capabilities)
        d["stream_types"] = [t.to_dict() for t in self.stream_types]
        if self.methods:
            d["methods"] = list(self.methods)
        return d


@dataclass
class Plugin:
    """What a stream vendor declares: name, version, stream types with their
    factories, and plugin-scope methods (name -> fn(args, env) returning a
    JSON-able result). Pass it to serve() from main."""

    name: str
    version: str
    types: list[StreamType] = field(default_factory=list)
    methods: dict[str, Callable[[Any, "Env"], Any]] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)

    def manifest(self) -> Manifest:
        return Manifest(
            name=self.name,
            version=self.version,
            capabilities=list(self.capabilities),
            stream_types=[
                StreamTypeInfo(t.type, t.priority, t.hold_supported, t.match, list(t.codecs)) for t in self.types
            ],
            methods=sorted(self.methods),
        )


@dataclass
class Account:
    """What a stream knows of its session's account. Settings are flattened
    ("rtp.port_range" -> "50000-50500")."""

    id: str = ""
    uri: str = ""
    display_name: str = ""
    settings: dict[str, str] = field(default_factory=dict)

    def setting(self, name: str, default: str = "") -> str:
        return self.settings.get(name, default)


@dataclass
class SessionInfo:
    """What a stream knows of its session. local_ip is the address the
    session signals on: bind there and write it into c= lines."""

    id: str = ""
    direction: str = ""
    local_identity: str = ""
    remote_identity: str = ""
    local_focus: bool = False
    remote_focus: bool = False
    local_ip: str = ""

    def local_addr(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The address to bind and to write into c=: local_ip, else
        DEFAULT_LOCAL_IP, unmapped. Raises InvalidArgumentError for an
        address that does not parse or is unspecified (0.0.0.0, ::)."""
        text = self.local_ip or DEFAULT_LOCAL_IP
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise InvalidArgumentError(f"local IP {text!r} is not an IP address") from None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_unspecified:
            raise InvalidArgumentError(f"local IP {ip} is unspecified: the session must name the address it signals on")
        return ip


@dataclass
class Prepare:
    """Asks NewFromSDP or Create to also initialize the stream, wait for its
    outcome and return its local media (one round trip instead of three)."""

    session: Optional[SessionInfo] = None
    direction: str = ""
    local_media: bool = False


@dataclass
class NewFromSDPRequest:
    types: list[str] = field(default_factory=list)
    account: Optional[Account] = None
    remote_sdp: str = ""
    stream_index: int = 0
    prepare: Optional[Prepare] = None


@dataclass
class CreateRequest:
    type: str = ""
    account: Optional[Account] = None
    # The type's constructor parameters, decoded from JSON (None when absent).
    params: Any = None
    prepare: Optional[Prepare] = None


@dataclass
class GetLocalMediaRequest:
    """An offer when for_offer, else the answer to remote_sdp's m-line
    stream_index."""

    remote_sdp: str = ""
    stream_index: int = 0
    for_offer: bool = False


@dataclass
class InitializeRequest:
    session: Optional[SessionInfo] = None
    direction: str = ""


@dataclass
class StartRequest:
    local_sdp: str = ""
    remote_sdp: str = ""
    stream_index: int = 0
    # What the session knows once the SDP is agreed (contract 1.1); None
    # from a host of contract 1.0.
    session: Optional[SessionInfo] = None


@dataclass
class ValidateUpdateRequest:
    remote_sdp: str = ""
    stream_index: int = 0


@dataclass
class UpdateRequest:
    local_sdp: str = ""
    remote_sdp: str = ""
    stream_index: int = 0


@dataclass
class ResetRequest:
    stream_index: int = 0


@dataclass
class InvokeRequest:
    method: str = ""
    # The arguments, decoded from JSON (None when absent).
    args: Any = None


@dataclass
class Attributes:
    """The IMediaStream attributes plus the type's own (extra: a JSON-able
    object or dataclass)."""

    hold_supported: bool = False
    on_hold_by_local: bool = False
    on_hold_by_remote: bool = False
    extra: Any = None


class Env:
    """What the kit gives a stream or a plugin-scope method: its handle (0
    for methods), post() for its notifications and a logger (JSON lines on
    stderr, which the host folds into its log)."""

    def __init__(self, handle: int, post: Callable[[int, str, Any], None], log: logging.Logger | logging.LoggerAdapter):
        self.handle = handle
        self._post = post
        self.log = log

    def post(self, name: str, data: Any = None) -> None:
        """Posts a notification: name and a JSON-able object (or dataclass).
        It never blocks and never drops; the data is marshalled at once."""
        self._post(self.handle, name, data)
