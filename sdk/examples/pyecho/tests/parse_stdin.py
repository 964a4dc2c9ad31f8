"""Parses datagrams for the Go fuzz target FuzzDatagramAgreesWithGo: one
hex-encoded datagram per line in, one line out: `OK KIND SEQ HEX(payload)`
or `ERR`."""

import sys

from pyecho import datagram

for line in sys.stdin:
    try:
        d = datagram.parse(bytes.fromhex(line.strip()))
    except datagram.MalformedDatagram:
        print("ERR", flush=True)
        continue
    print("OK", d.kind, d.seq, d.payload.encode().hex(), flush=True)
