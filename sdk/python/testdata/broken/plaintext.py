"""Broken on purpose: the pyecho plugin ignoring the host's AutoMTLS
certificate and serving plain-text gRPC with an empty certificate field, as
go-plugin's own Python example does."""

import os

import pyecho


def main():
    os.environ.pop("PLUGIN_CLIENT_CERT", None)
    pyecho.main()
