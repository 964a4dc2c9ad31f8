"""Broken on purpose: the pyecho plugin announcing contract version 2 in its
handshake line (the host speaks 1)."""

import sipstreams_plugin.goplugin as serve

import pyecho


def main():
    serve.handshake_line = lambda network, address, cert: f"1|2|{network}|{address}|grpc|{cert}"
    pyecho.main()
