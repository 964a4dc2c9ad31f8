#!/usr/bin/env python3
"""rtpflood.py — the hostile peer of issue 14's benchmark (scripts/audioload.sh).

    scripts/rtpflood.py PORT COUNT RATE SECONDS

Sends to the COUNT RTP ports PORT, PORT+2, ... on 127.0.0.1, RATE packets
per second to each (500 is ten times a 20 ms call), for SECONDS, in turn:
garbage that is not RTP, RTP version 2 packets with random payloads and
authentication tags (bad SRTP), and the same from a second socket (RTP
from an address that is not the call's peer). Loopback only, bounded in
rate (at most 10,000 per port, 100 ports) and time (at most 600 s). Prints
how many it sent.
"""
import os
import socket
import struct
import sys
import time


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    port, count, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    if not (0 < count <= 100 and 0 < rate <= 10000 and 0 < seconds <= 600 and 0 < port and port + 2 * count < 65536):
        sys.exit("rtpflood: want 1..100 ports, 1..10000 packets/s, up to 600 s")
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ssrc = int.from_bytes(os.urandom(4), "big")
    sent, seq, kind = 0, 0, 0
    tick = 0.01  # a burst every 10 ms
    per_tick = max(1, round(rate * tick))
    start = time.monotonic()
    next_at = start
    while time.monotonic() - start < seconds:
        for _ in range(per_tick):
            for i in range(count):
                kind = (kind + 1) % 3
                if kind == 0:
                    pkt = os.urandom(172)  # mostly not version 2: not RTP
                    sock = socks[0]
                else:
                    seq = (seq + 1) & 0xFFFF
                    # RTP v2, PCMU, a random payload and a 10-byte "auth tag".
                    pkt = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc) + os.urandom(170)
                    sock = socks[kind - 1]
                try:
                    sock.sendto(pkt, ("127.0.0.1", port + 2 * i))
                    sent += 1
                except OSError:
                    pass  # a port not bound (yet): ICMP unreachable, go on
        next_at += tick
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(f"rtpflood: {sent} packets to {count} ports over {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
