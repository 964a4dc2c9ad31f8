"""SDP as a stream needs it (RFC 4566/8866): parse a session description,
find an m-line, read where a UDP-based remote sends from, build the local
media section; and the direction rules of hold (RFC 3264 §5.1, §8.4, and the
reference's RTPStream), as the Go SDK's sdk.MediaAt, sdk.ParseEndpoint,
sdk.OfferDirection, sdk.HoldState and friends.

Parsing is strict where the host's parser (pion/sdp) is: text that is not
a session description raises InvalidStreamError, never anything else.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import InvalidStreamError

__all__ = [
    "SENDRECV",
    "SENDONLY",
    "RECVONLY",
    "INACTIVE",
    "Connection",
    "Media",
    "Session",
    "Endpoint",
    "parse_sdp",
    "media_at",
    "parse_media",
    "match",
    "connection_address",
    "parse_endpoint",
    "direction",
    "remote_direction",
    "direction_of",
    "sends",
    "receives",
    "offer_direction",
    "answer_direction",
    "negotiated_direction",
    "hold_flags",
    "media_section",
    "HoldState",
    "HoldStateData",
]

SENDRECV, SENDONLY, RECVONLY, INACTIVE = "sendrecv", "sendonly", "recvonly", "inactive"
_DIRECTIONS = (SENDRECV, SENDONLY, RECVONLY, INACTIVE)

_LINE = re.compile(r"^([a-z])=(.*)$")


@dataclass
class Connection:
    """A c= line: network type, address type (IP4, IP6) and address."""

    net_type: str
    addr_type: str
    address: str


@dataclass
class Media:
    """One media section: the m-line and the lines below it."""

    media: str
    port: int
    port_count: Optional[int]
    protos: list[str]
    formats: list[str]
    connection: Optional[Connection] = None
    attributes: list[tuple[str, Optional[str]]] = field(default_factory=list)

    def attribute(self, key: str) -> Optional[str]:
        """The value of the first a=key[:value] line ("" for a property
        attribute), or None when there is none."""
        for k, v in self.attributes:
            if k == key:
                return "" if v is None else v
        return None

    @property
    def proto(self) -> str:
        """The transport protocol as written ("RTP/AVP", "UDP")."""
        return "/".join(self.protos)


@dataclass
class Session:
    """A session description: the session-level c= and a= lines and the media
    sections, in order."""

    origin: str
    name: str
    connection: Optional[Connection] = None
    attributes: list[tuple[str, Optional[str]]] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)


def _connection(value: str) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise InvalidStreamError(f"malformed SDP: c={value!r} is not 'IN IP4|IP6 address'")
    return Connection(*parts)


def _attribute(value: str) -> tuple[str, Optional[str]]:
    key, sep, val = value.partition(":")
    if not key:
        raise InvalidStreamError(f"malformed SDP: a={value!r}")
    return key, (val if sep else None)


def _media_line(value: str) -> Media:
    parts = value.split()
    if len(parts) < 4:
        raise InvalidStreamError(f"malformed SDP: m={value!r} needs media, port, proto and at least one format")
    port_text, _, count_text = parts[1].partition("/")
    try:
        port = int(port_text, 10)
        count = int(count_text, 10) if count_text else None
    except ValueError:
        raise InvalidStreamError(f"malformed SDP: m-line port {parts[1]!r}") from None
    if not 0 <= port <= 65535 or not port_text.isdigit():
        raise InvalidStreamError(f"malformed SDP: m-line port {parts[1]!r} out of range")
    return Media(media=parts[0], port=port, port_count=count, protos=parts[2].split("/"), formats=parts[3:])


def parse_sdp(text: str) -> Session:
    """Parses a session description. Anything malformed raises
    InvalidStreamError: a first line other than v=0, a line that is not
    `x=value`, missing o=, s= or t= lines before the first m-line, or a
    malformed m=, c= or a= line."""
    if not isinstance(text, str) or not text:
        raise InvalidStreamError("malformed SDP: empty")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != "v=0":
        raise InvalidStreamError("malformed SDP: does not start with v=0")
    origin = name = None
    timing = False
    session = None
    current: Optional[Media] = None
    for n, line in enumerate(lines[1:], start=2):
        m = _LINE.match(line)
        if not m:
            raise InvalidStreamError(f"malformed SDP: line {n} {line[:40]!r} is not type=value")
        key, value = m.group(1), m.group(2)
        if current is None and key != "m":
            if key == "o":
                origin = value
            elif key == "s":
                name = value
            elif key == "t":
                timing = True
            elif key == "c":
                conn = _connection(value)
                session = session or Session(origin or "", name or "")
                session.connection = conn
            elif key == "a":
                session = session or Session(origin or "", name or "")
                session.attributes.append(_attribute(value))
            elif key == "v":
                raise InvalidStreamError(f"malformed SDP: second v= at line {n}")
            continue
        if key == "m":
            if origin is None or name is None or not timing:
                raise InvalidStreamError("malformed SDP: o=, s= and t= must come before the first m-line")
            session = session or Session(origin, name)
            current = _media_line(value)
            session.media.append(current)
        elif key == "c":
            current.connection = _connection(value)
        elif key == "a":
            current.attributes.append(_attribute(value))
        elif key in "vostzr":
            raise InvalidStreamError(f"malformed SDP: {key}= inside a media section (line {n})")
    if origin is None or name is None or not timing:
        raise InvalidStreamError("malformed SDP: missing o=, s= or t=")
    session = session or Session(origin, name)
    session.origin, session.name = origin, name
    return session


def media_at(text: str, index: int) -> tuple[Session, Media]:
    """Parses text and returns the session and its m-line index; a malformed
    SDP or an index out of range raises InvalidStreamError."""
    s = parse_sdp(text)
    if not 0 <= index < len(s.media):
        raise InvalidStreamError(f"no m-line {index} in SDP with {len(s.media)}")
    return s, s.media[index]


_WRAPPER = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


def parse_media(text: str) -> Media:
    """Parses one media section as get_local_media returns it."""
    if not text.startswith("m="):
        raise InvalidStreamError("media section does not start with m=")
    s = parse_sdp(_WRAPPER + text)
    if len(s.media) != 1:
        raise InvalidStreamError(f"media section holds {len(s.media)} m-lines, want 1")
    return s.media[0]


def _contains_fold(values, s: str) -> bool:
    s = s.lower()
    return any(v == "*" or v.lower() == s for v in values)


def _any_fold(want, have) -> bool:
    return any(_contains_fold(want, h) for h in have)


_STATIC_PAYLOADS = {0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 18: "G729"}


def match(rule, m: Media) -> bool:
    """Reports whether m satisfies the MatchRule rule (sdk.MatchRule.Matches)."""
    if rule.media and not _contains_fold(rule.media, m.media):
        return False
    if rule.protos and not _contains_fold(rule.protos, m.proto):
        return False
    if rule.formats and not _any_fold(rule.formats, m.formats):
        return False
    if rule.accept_types:
        v = m.attribute("accept-types") or ""
        if not _any_fold(rule.accept_types, v.split()):
            return False
    if rule.rtpmap_names:
        names = []
        for k, v in m.attributes:
            if k == "rtpmap" and v and " " in v:
                names.append(v.split(" ", 1)[1].split("/", 1)[0])
        for f in m.formats:
            if f.isdigit() and int(f) in _STATIC_PAYLOADS:
                names.append(_STATIC_PAYLOADS[int(f)])
        if not _any_fold(rule.rtpmap_names, names):
            return False
    return True


def connection_address(s: Optional[Session], m: Media) -> str:
    """The connection address of m: its own c= line, else the session's."""
    if m.connection is not None:
        return m.connection.address
    if s is not None and s.connection is not None:
        return s.connection.address
    return ""


def direction(s: Optional[Session], m: Media) -> str:
    """The direction of m: its own attribute, else the session's, else
    sendrecv (RFC 3264 §5.1)."""
    for k, _ in m.attributes:
        if k in _DIRECTIONS:
            return k
    if s is not None:
        for k, _ in s.attributes:
            if k in _DIRECTIONS:
                return k
    return SENDRECV


def _ip(text: str):
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return None
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
    return ip


def remote_direction(s: Optional[Session], m: Media) -> str:
    """direction() of the remote's m-line, with an old-style hold (c= 0.0.0.0
    or ::) read as "the remote does not receive"."""
    d = direction(s, m)
    ip = _ip(connection_address(s, m))
    if ip is not None and ip.is_unspecified:
        return direction_of(sends(d), False)
    return d


@dataclass
class Endpoint:
    """Where a remote UDP m-line says to send (sdk.Endpoint): address is None
    when the m-line is removed, unspecified for an old-style hold."""

    address: Any
    port: int
    direction: str = SENDRECV

    @property
    def removed(self) -> bool:
        """The m-line's port is 0: refused or removed (RFC 3264 §6, §8.2)."""
        return self.port == 0

    @property
    def on_hold_old_style(self) -> bool:
        return self.address is not None and self.address.is_unspecified

    def peer(self) -> Optional[tuple[str, int]]:
        """(address, port) to send to, or None when removed or held old-style."""
        if self.removed or self.on_hold_old_style or self.address is None:
            return None
        return (str(self.address), self.port)


def parse_endpoint(s: Optional[Session], m: Media) -> Endpoint:
    """Reads the remote's address, port and direction (sdk.ParseEndpoint). A
    port of 0 gives a removed Endpoint; an address that is missing, a host
    name or carries a zone raises InvalidStreamError."""
    if m.port == 0:
        return Endpoint(None, 0, "")
    text = connection_address(s, m)
    ip = _ip(text)
    if ip is None:
        raise InvalidStreamError(f"connection address {text!r} is not an IP address")
    return Endpoint(ip, m.port, remote_direction(s, m))


def direction_of(send: bool, recv: bool) -> str:
    if send and recv:
        return SENDRECV
    if send:
        return SENDONLY
    if recv:
        return RECVONLY
    return INACTIVE


def sends(d: str) -> bool:
    return d in (SENDRECV, SENDONLY)


def receives(d: str) -> bool:
    return d in (SENDRECV, RECVONLY)


def offer_direction(last: str, holding: bool) -> str:
    """The direction to offer (reference §3.5): sendrecv before any
    negotiation; then our last sending, receiving unless we hold."""
    if not last:
        return SENDRECV
    return direction_of(sends(last), not holding)


def answer_direction(last: str, offered: str) -> str:
    """The direction to answer with: sendrecv unless we hold (we keep
    receiving only if we did), intersected with the offer (RFC 3264 §6.1)."""
    recv = not last or receives(last)
    return direction_of(receives(offered), recv and sends(offered))


def negotiated_direction(local: str, remote: str) -> str:
    """Our direction after an exchange: our SDP's, narrowed by the remote's."""
    return direction_of(sends(local) and receives(remote), receives(local) and sends(remote))


def hold_flags(d: str, was_on_hold_by_local: bool) -> tuple[bool, bool]:
    """(on_hold_by_local, on_hold_by_remote) after negotiating d; inactive
    keeps the local flag as it was."""
    local = was_on_hold_by_local if d == INACTIVE else d == SENDONLY
    return local, not sends(d)


def media_section(
    media: str,
    port: int,
    proto: str,
    formats: list[str],
    address: Any = None,
    attributes: list[tuple[str, Optional[str]]] = (),
) -> str:
    """Builds one media section as get_local_media returns it: the m-line, a
    c= line for address (an IP address: IP6 for IPv6) and the attributes
    (key, value or None for a property attribute), CRLF terminated."""
    lines = [f"m={media} {port} {proto} {' '.join(formats)}"]
    if address is not None:
        ip = _ip(str(address))
        kind = "IP6" if ip is not None and ip.version == 6 else "IP4"
        lines.append(f"c=IN {kind} {ip if ip is not None else address}")
    for k, v in attributes:
        lines.append(f"a={k}" if v is None else f"a={k}:{v}")
    return "\r\n".join(lines) + "\r\n"


@dataclass
class HoldStateData:
    """The data of a hold-state notification: originator "local" or
    "remote", and the flag's new value."""

    originator: str
    on_hold: bool


class HoldState:
    """A stream's hold bookkeeping through the SDP direction attribute
    (sdk.HoldState): the local hold request, the last negotiated direction and
    the two hold flags, posting names for each flag that changes. Not thread
    safe: guard it with the stream's lock."""

    def __init__(self, post: Optional[Callable[[str, Any], None]] = None, *names: str):
        self._post = post
        self._names = names
        self.requested = False
        self.direction = ""
        self.on_hold_by_local = False
        self.on_hold_by_remote = False

    def request(self, on: bool) -> None:
        """Records a local hold request (hold) or its withdrawal (unhold)."""
        self.requested = on

    def may_send(self) -> bool:
        return not self.requested and sends(self.direction)

    def offer(self) -> str:
        return offer_direction(self.direction, self.requested)

    def answer(self, offered: str) -> str:
        return answer_direction(self.direction, offered)

    def negotiated(self, d: str) -> None:
        """Records our direction after an exchange and updates the flags,
        posting the local flag's change first."""
        local, remote = hold_flags(d, self.on_hold_by_local)
        self.direction = d
        if local != self.on_hold_by_local:
            self.on_hold_by_local = local
            self._notify("local", local)
        if remote != self.on_hold_by_remote:
            self.on_hold_by_remote = remote
            self._notify("remote", remote)

    def _notify(self, originator: str, on: bool) -> None:
        if self._post is None:
            return
        for name in self._names:
            self._post(name, HoldStateData(originator, on))

    def attributes(self, extra: Any = None):
        from .types import Attributes

        return Attributes(True, self.on_hold_by_local, self.on_hold_by_remote, extra)
