"""pyecho: the reference stream plugin in Python.

It serves one stream type, "pyecho": a UDP ping/echo flow negotiated with
SDP (m=application PORT UDP x-sipstreams-pyecho), the twin of the Go echo
plugin (sdk/examples/echo) built with the Python kit (sdk/python). Stream
methods "send" ({"payload"} -> {"seq"}) and "stats"; the plugin-scope method
"tick" ({"count", "rate"} -> {"posted"}) posts PyEchoTick notifications so a
host can measure their latency.
"""

from __future__ import annotations

import time

from sipstreams_plugin import InvalidArgumentError, Plugin, StreamType, build_version, serve

from .stream import PRIORITY, TICK, TYPE, EchoStream, match_rule

MAX_TICK_COUNT = 1_000_000


def tick(args, env):
    """Posts args["count"] PyEchoTick notifications, args["rate"] per second
    (0: as fast as possible); returns once all are posted."""
    args = args or {}
    count, rate = args.get("count", 0), args.get("rate", 0)
    if not isinstance(count, int) or not isinstance(rate, int) or not 0 <= count <= MAX_TICK_COUNT or rate < 0:
        raise InvalidArgumentError(f"tick: count must be in [0, {MAX_TICK_COUNT}] and rate >= 0, got count {count!r} rate {rate!r}")
    start = time.monotonic()
    for i in range(count):
        if rate > 0 and i > 0:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        env.post(TICK, {"seq": i + 1, "sent_unix_nano": time.time_ns()})
    return {"posted": count}


def plugin(version: str) -> Plugin:
    return Plugin(
        name="pyecho",
        version=version,
        types=[
            StreamType(
                type=TYPE,
                priority=PRIORITY,
                hold_supported=True,
                match=match_rule(),
                new_from_sdp=EchoStream.incoming,
                create=EchoStream.outgoing,
            )
        ],
        methods={"tick": tick},
    )


def main() -> None:
    serve(plugin(build_version()))
