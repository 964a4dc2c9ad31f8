"""serve: the command line a host and a person see, before any handshake."""

import io
import json
import os
import subprocess
import sys
import unittest

from sipstreams_plugin import CONTRACT_MAJOR, CONTRACT_MINOR, MatchRule, Plugin, StreamType
from sipstreams_plugin.goplugin import HANDSHAKE_COOKIE_KEY, HCLogFormatter, handshake_line, run

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def sample():
    return Plugin(
        name="sample",
        version="0.1.0",
        types=[StreamType("sample", priority=2, match=MatchRule(media=["application"]), create=lambda r, e: None)],
        methods={"b": None, "a": None},
    )


def call(plugin, *args, env=None):
    out, err = io.StringIO(), io.StringIO()
    old = dict(os.environ)
    try:
        os.environ.pop(HANDSHAKE_COOKIE_KEY, None)
        os.environ.update(env or {})
        code = run(plugin, list(args), out, err)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return code, out.getvalue(), err.getvalue()


class ServeTest(unittest.TestCase):
    def test_describe(self):
        code, out, err = call(sample(), "describe")
        self.assertEqual((code, err), (0, ""))
        m = json.loads(out)
        self.assertEqual(
            m,
            {
                "name": "sample",
                "version": "0.1.0",
                "contract_major": CONTRACT_MAJOR,
                "contract_minor": CONTRACT_MINOR,
                "stream_types": [{"type": "sample", "priority": 2, "hold_supported": False, "match": {"media": ["application"]}}],
                "methods": ["a", "b"],
            },
        )

    def test_describe_invalid(self):
        p = sample()
        p.types = []
        code, out, err = call(p, "describe")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("invalid manifest", err)

    def test_version_and_unknown(self):
        self.assertEqual(call(sample(), "version")[:2], (0, f"sample 0.1.0 (contract {CONTRACT_MAJOR}.{CONTRACT_MINOR})\n"))
        code, out, err = call(sample(), "frobnicate")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("unknown command 'frobnicate'", err)

    def test_without_host(self):
        """Run by hand: an explanation on stderr, nothing on stdout (which
        belongs to go-plugin's handshake)."""
        code, out, err = call(sample())
        self.assertEqual((code, out), (1, ""))
        self.assertIn("sipstreams stream plugin", err)
        self.assertIn("describe", err)

    def test_other_contract(self):
        env = {HANDSHAKE_COOKIE_KEY: "media-stream-contract-4f1c2a8e", "PLUGIN_PROTOCOL_VERSIONS": "2,3"}
        code, out, err = call(sample(), env=env)
        self.assertEqual((code, out), (1, ""))
        self.assertIn("contract versions 2,3", err)

    def test_describe_does_not_import_grpc(self):
        """Discovery runs `describe` for every plugin: it must stay cheap."""
        script = (
            "import sys, io\n"
            "from sipstreams_plugin.goplugin import run\n"
            "from tests.test_serve import sample\n"
            "run(sample(), ['describe'], io.StringIO(), sys.stderr)\n"
            "print('grpc' in sys.modules, 'cryptography' in sys.modules)\n"
        )
        out = subprocess.run([sys.executable, "-B", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        self.assertEqual(out.strip(), "False False")

    def test_handshake_line(self):
        self.assertEqual(handshake_line("unix", "/tmp/p", "CERT"), f"1|{CONTRACT_MAJOR}|unix|/tmp/p|grpc|CERT")

    def test_hclog(self):
        import logging

        rec = logging.LogRecord("plugin", logging.WARNING, __file__, 1, "socket %s closed", ("x",), None)
        rec.stream = 3
        line = json.loads(HCLogFormatter().format(rec))
        self.assertEqual((line["@level"], line["@message"], line["stream"]), ("warn", "socket x closed", 3))
        self.assertIn("@timestamp", line)


if __name__ == "__main__":
    unittest.main()
