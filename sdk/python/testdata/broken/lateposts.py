"""Broken on purpose: pyecho streams that post a notification after their
MediaStreamDidEnd."""

from sipstreams_plugin import build_version, serve

import pyecho
from pyecho.stream import EchoStream


class LateStream(EchoStream):
    def end(self):
        super().end()
        self.env.post("PyEchoStreamDidFlushStats", {"packets": self.counters.packets_sent})


def main():
    p = pyecho.plugin(build_version())
    p.types[0].new_from_sdp = LateStream.incoming
    p.types[0].create = LateStream.outgoing
    serve(p)
