"""Broken on purpose: the pyecho plugin without the gRPC health service
go-plugin requires."""

import sipstreams_plugin.server as server

import pyecho


def main():
    add = server.add_services
    server.add_services = lambda s, provider, shutdown, **kw: add(s, provider, shutdown, health=False)
    pyecho.main()
