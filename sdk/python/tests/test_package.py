"""package: one reproducible executable file per plugin."""

import hashlib
import os
import subprocess
import tempfile
import unittest
import zipfile

from sipstreams_plugin import package

HERE = os.path.dirname(os.path.abspath(__file__))


class PackageTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.src = os.path.join(self.dir.name, "hello.py")
        with open(self.src, "w") as f:
            f.write(
                "from sipstreams_plugin import build_version\n"
                "def main():\n"
                "    print(build_version())\n"
                "    return 3\n"
            )

    def build(self, name, version="1.0"):
        out = os.path.join(self.dir.name, name)
        package.build(out, [self.src], "hello:main", version)
        return out

    def test_runs(self):
        out = self.build("p")
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o755)
        with open(out, "rb") as f:
            self.assertEqual(f.readline(), b"#!/usr/bin/python3\n")
        r = subprocess.run([out], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout), (3, "1.0\n"))
        names = zipfile.ZipFile(out).namelist()
        for want in ("__main__.py", "hello.py", "sipstreams_plugin/goplugin.py", "sipstreams/stream/v1/stream_pb2.py"):
            self.assertIn(want, names)
        self.assertFalse([n for n in names if "__pycache__" in n or n.startswith("tests/")])

    def test_makes_the_directory(self):
        out = self.build(os.path.join("plugins", "sipstreams-plugin-hello"))
        r = subprocess.run([out], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout), (3, "1.0\n"))

    def test_reproducible(self):
        a, b = self.build("a"), self.build("b")
        def digest(p):
            with open(p, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()

        self.assertEqual(digest(a), digest(b))
        self.assertNotEqual(digest(a), digest(self.build("c", version="1.1")))

    def test_refused(self):
        out = os.path.join(self.dir.name, "x")
        with self.assertRaises(ValueError):
            package.build(out, [self.src], "hello")
        with self.assertRaises(ValueError):
            package.build(out, [self.src], "hello:main", python="python3")
        with self.assertRaises(FileNotFoundError):
            package.build(out, [self.src + ".missing"], "hello:main")
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.dir.name) if f.startswith(".package-")], [])


if __name__ == "__main__":
    unittest.main()
