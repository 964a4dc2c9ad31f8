"""serve(): run a Plugin as a plugin process speaking go-plugin's protocol,
the Python sdk.Serve.

Run as `PLUGIN describe` it prints the manifest as JSON and exits, without a
handshake (and without importing grpc). Started by a sipstreams host it
speaks go-plugin's protocol:

1. the host sets SIPSTREAMS_PLUGIN (the handshake cookie),
   PLUGIN_PROTOCOL_VERSIONS (it must list the contract's major version),
   PLUGIN_UNIX_SOCKET_DIR (where to listen) and, for AutoMTLS,
   PLUGIN_CLIENT_CERT (its certificate, PEM);
2. the plugin serves gRPC on a unix socket: the contract, the health service
   reporting "plugin" SERVING, go-plugin's controller (Shutdown) and stdio
   services; with AutoMTLS over TLS with a fresh self-signed certificate for
   "localhost", accepting only the host's certificate;
3. it prints one line on stdout, CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT:
   `1|1|unix|/tmp/.../plugin123|grpc|<its certificate, DER, base64 without
   padding>`, and nothing else ever goes to stdout (it is redirected to
   stderr);
4. it logs JSON lines on stderr (hclog's keys), exits when the host asks
   (Shutdown) or dies (its parent process changes), ending its live streams.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from typing import NoReturn, Optional, Sequence, TextIO

from .errors import StreamError
from .types import CONTRACT_MAJOR, CONTRACT_MINOR, Plugin

__all__ = ["serve", "run", "HANDSHAKE_COOKIE_KEY", "HANDSHAKE_COOKIE_VALUE", "CORE_PROTOCOL_VERSION"]

# The handshake cookie sipstreams hosts set (sdk.Handshake()). It keeps the
# plugin from being run by hand or by another go-plugin host by mistake.
HANDSHAKE_COOKIE_KEY = "SIPSTREAMS_PLUGIN"
HANDSHAKE_COOKIE_VALUE = "media-stream-contract-4f1c2a8e"
# go-plugin's own protocol version, the first field of the handshake line.
CORE_PROTOCOL_VERSION = 1
# The gRPC message limit on both sides of the contract (sdk.MaxMessageSize).
MAX_MESSAGE_SIZE = 64 << 20
# How often the parent process is checked, and how long the streams get to
# end when it went away.
PARENT_POLL = 0.2


def serve(plugin: Plugin, *, log_level: int = logging.INFO) -> NoReturn:
    """Runs plugin as a plugin process and exits. Call it from main."""
    sys.exit(run(plugin, sys.argv[1:], sys.stdout, sys.stderr, log_level=log_level))


def run(plugin: Plugin, args: Sequence[str], stdout: TextIO, stderr: TextIO, *, log_level: int = logging.INFO) -> int:
    """serve's body: returns the exit code (tests call it)."""
    if args:
        if args[0] == "describe":
            return _describe(plugin, stdout, stderr)
        if args[0] == "version":
            print(f"{plugin.name} {plugin.version} (contract {CONTRACT_MAJOR}.{CONTRACT_MINOR})", file=stdout)
            return 0
        print(f"{plugin.name}: unknown command {args[0]!r} (commands: describe, version)", file=stderr)
        return 2
    if os.environ.get(HANDSHAKE_COOKIE_KEY) != HANDSHAKE_COOKIE_VALUE:
        print(
            f"{plugin.name} is a sipstreams stream plugin: put it in the host's plugin directory, "
            f"or run `{os.path.basename(sys.argv[0])} describe`.",
            file=stderr,
        )
        return 1
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    if versions and str(CONTRACT_MAJOR) not in [v.strip() for v in versions.split(",")]:
        print(f"{plugin.name}: the host speaks contract versions {versions}, this plugin {CONTRACT_MAJOR}", file=stderr)
        return 1
    return _Process(plugin, stdout, stderr, log_level).run()


def _describe(plugin: Plugin, stdout: TextIO, stderr: TextIO) -> int:
    m = plugin.manifest()
    try:
        m.validate()
    except StreamError as e:
        print(f"{plugin.name}: invalid manifest: {e}", file=stderr)
        return 1
    json.dump(m.to_dict(), stdout, indent=2)
    stdout.write("\n")
    return 0


class HCLogFormatter(logging.Formatter):
    """Formats records as hclog JSON lines (@level, @message, @timestamp,
    @module, and the record's extra fields), which the host parses into its
    own log."""

    _SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        level = {"WARNING": "warn", "CRITICAL": "error"}.get(record.levelname, record.levelname.lower())
        entry = {
            "@level": level,
            "@message": record.getMessage(),
            "@timestamp": datetime.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="microseconds"),
            "@module": record.name,
        }
        for k, v in vars(record).items():
            if k not in self._SKIP and not k.startswith("_"):
                entry[k] = v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def handshake_line(network: str, address: str, cert_b64: str) -> str:
    """go-plugin's handshake line: CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT."""
    return f"{CORE_PROTOCOL_VERSION}|{CONTRACT_MAJOR}|{network}|{address}|grpc|{cert_b64}"


def server_certificate() -> tuple[bytes, bytes, bytes]:
    """A fresh self-signed certificate for "localhost", as go-plugin's
    AutoMTLS makes one: (certificate PEM, key PEM, certificate DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sipstreams")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem, cert.public_bytes(serialization.Encoding.DER)


class _Process:
    """One served plugin process."""

    def __init__(self, plugin: Plugin, stdout: TextIO, stderr: TextIO, log_level: int) -> None:
        self.plugin = plugin
        self.stdout = stdout
        self.stderr = stderr
        handler = logging.StreamHandler(stderr)
        handler.setFormatter(HCLogFormatter())
        self.log = logging.getLogger(f"sipstreams_plugin.{plugin.name}")
        self.log.handlers[:] = [handler]
        self.log.setLevel(log_level)
        self.log.propagate = False
        self.shutdown = threading.Event()

    def run(self) -> int:
        from concurrent.futures import ThreadPoolExecutor

        import grpc

        from . import server as _server
        from .provider import LocalProvider

        try:
            provider = LocalProvider(self.plugin, self.log)
        except StreamError as e:
            print(f"{self.plugin.name}: {e}", file=self.stderr)
            return 1
        # A Ctrl-C in a terminal reaches the host's whole process group: the
        # host decides (as go-plugin's plugins do).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown.set())
        server = grpc.server(
            ThreadPoolExecutor(max_workers=16, thread_name_prefix="rpc"),
            options=[("grpc.max_receive_message_length", MAX_MESSAGE_SIZE), ("grpc.max_send_message_length", MAX_MESSAGE_SIZE)],
        )
        _server.add_services(server, provider, self.shutdown)
        path = self._socket_path()
        cert_b64 = ""
        client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "")
        if client_cert:
            cert_pem, key_pem, der = server_certificate()
            creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=client_cert.encode(), require_client_auth=True)
            port = server.add_secure_port("unix:" + path, creds)
            cert_b64 = base64.b64encode(der).decode().rstrip("=")
        else:
            port = server.add_insecure_port("unix:" + path)
        if not port:
            self.log.error("cannot listen on unix socket %s", path)
            return 1
        group = os.environ.get("PLUGIN_UNIX_SOCKET_GROUP", "")
        if group:
            _set_group_writable(path, group)
        server.start()
        self.stdout.write(handshake_line("unix", path, cert_b64) + "\n")
        self.stdout.flush()
        _redirect_stdout()
        watcher = threading.Thread(target=self._watch_parent, args=(os.getppid(), provider), name="parent-watch", daemon=True)
        watcher.start()
        self.shutdown.wait()
        self.log.debug("shutting down")
        server.stop(grace=1).wait()
        provider.close()
        _remove(path)
        self.stderr.flush()
        # grpc's threads must not keep the interpreter alive.
        os._exit(0)

    def _socket_path(self) -> str:
        d = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.gettempdir()
        fd, path = tempfile.mkstemp(prefix="plugin", dir=d)
        os.close(fd)
        os.remove(path)
        return path

    def _watch_parent(self, ppid: int, provider) -> None:
        while not self.shutdown.wait(PARENT_POLL):
            if os.getppid() != ppid:
                self.log.warning("host process went away; ending streams and exiting")
                done = threading.Thread(target=provider.close, daemon=True)
                done.start()
                done.join(2.0)
                os._exit(3)


def _set_group_writable(path: str, group: str) -> None:
    import grp

    gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    os.chown(path, -1, gid)
    os.chmod(path, 0o660)


def _redirect_stdout() -> None:
    """From now on stdout belongs to nobody: what the plugin prints goes to
    stderr, never into go-plugin's handshake pipe."""
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), 1)
    sys.stdout = sys.stderr


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
