"""The echo wire format, the same as the Go echo plugin's
(sdk/examples/echo/echostream/datagram.go): ASCII text datagrams
`KIND SEQ PAYLOAD`, KIND PING or PONG, SEQ a decimal uint64, PAYLOAD UTF-8
of at most MAX_PAYLOAD bytes, possibly empty.

    PING 7 hello        -> answered with PONG 7 hello
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_PAYLOAD", "PING", "PONG", "Datagram", "MalformedDatagram", "parse"]

MAX_PAYLOAD = 1024
PING, PONG = "PING", "PONG"
_MAX_SEQ = (1 << 64) - 1


class MalformedDatagram(ValueError):
    """parse's error for input that is not an echo datagram."""


@dataclass(frozen=True)
class Datagram:
    kind: str
    seq: int
    payload: str = ""

    def marshal(self) -> bytes:
        return f"{self.kind} {self.seq} ".encode() + self.payload.encode()


def parse(b: bytes) -> Datagram:
    """Parses one datagram: exactly what marshal produces, plus a missing
    space before an empty payload ("PING 7"). Anything else raises
    MalformedDatagram; the input comes from the network."""
    if b.startswith(b"PING "):
        kind = PING
    elif b.startswith(b"PONG "):
        kind = PONG
    else:
        raise MalformedDatagram("not PING or PONG")
    seq, sep, payload = b[5:].partition(b" ")
    if not 0 < len(seq) <= 20 or not all(48 <= c <= 57 for c in seq):
        raise MalformedDatagram("bad sequence number")
    n = int(seq)
    if n > _MAX_SEQ:
        raise MalformedDatagram("sequence number out of range")
    text = ""
    if sep:
        if len(payload) > MAX_PAYLOAD:
            raise MalformedDatagram("payload too long")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedDatagram("payload is not UTF-8") from None
    return Datagram(kind, n, text)
