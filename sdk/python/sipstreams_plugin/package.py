"""Packages a Python plugin into one executable file for the host's plugin
directory: a zip application (PEP 441) holding the plugin's modules, this kit
and the contract's generated code, behind a `#!/usr/bin/python3` line.

    python3 -m sipstreams_plugin.package --main hello:main --version 1.0.0 \\
        -o plugins/sipstreams-plugin-hello hello.py

One file means one SHA-256 covers all the plugin's code (`sipstreams plugins
lock` pins it). The archive is reproducible: entries in name order with a
fixed date, so the same sources give the same bytes, and so the same pin.
It is written next to its destination and renamed into place, so a host
never starts a half-written plugin. Third-party packages are not bundled:
the plugin runs with the interpreter's own (Debian's python3-grpcio,
python3-protobuf and python3-cryptography).
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import tempfile
import zipfile
from typing import Iterable, Optional, Sequence

__all__ = ["build", "main", "DEFAULT_PYTHON"]

# The interpreter of the shebang line: Debian's, which has the packages the
# kit needs (another python3 on PATH may not).
DEFAULT_PYTHON = "/usr/bin/python3"

_KIT_DIR = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_KIT_DIR)  # holds sipstreams_plugin/ and sipstreams/
_DATE = (1980, 1, 1, 0, 0, 0)
_ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")


def _walk(src: str, arcbase: str) -> Iterable[tuple[str, str]]:
    """(file path, archive name) of src, a file or a package directory,
    skipping caches and compiled files."""
    if os.path.isfile(src):
        yield src, arcbase
        return
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for f in sorted(filenames):
            if f.endswith((".pyc", ".pyo")) or f.startswith("."):
                continue
            path = os.path.join(dirpath, f)
            yield path, os.path.join(arcbase, os.path.relpath(path, src)).replace(os.sep, "/")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def build(
    output: str,
    sources: Sequence[str],
    entry: str,
    version: str = "dev",
    python: str = DEFAULT_PYTHON,
) -> str:
    """Writes the plugin file output (mode 0755) from sources (module files
    or package directories, placed at the archive's root) with entry
    ("module:function") called by its __main__. Returns output."""
    if not _ENTRY.match(entry):
        raise ValueError(f"--main {entry!r} is not module:function")
    if not os.path.isabs(python):
        raise ValueError(f"--python {python!r} must be an absolute path")
    module, func = entry.split(":")
    files: dict[str, bytes] = {}
    for name in ("sipstreams_plugin", "sipstreams"):
        for path, arc in _walk(os.path.join(_ROOT, name), name):
            files[arc] = _read(path)
    for src in sources:
        if not os.path.exists(src):
            raise FileNotFoundError(src)
        base = os.path.basename(os.path.normpath(src))
        for path, arc in _walk(src, base):
            if arc in files:
                raise ValueError(f"{src}: {arc} is already in the archive (the kit's name?)")
            files[arc] = _read(path)
    files["_sipstreams_build.py"] = f'"""Written by sipstreams_plugin.package."""\nVERSION = {version!r}\n'.encode()
    files["__main__.py"] = (
        f'"""Entry point written by sipstreams_plugin.package."""\nimport sys\n\nfrom {module} import {func}\n\nsys.exit({func}())\n'
    ).encode()
    out_dir = os.path.dirname(os.path.abspath(output))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".package-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"#!" + python.encode() + b"\n")
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for arc in sorted(files):
                    info = zipfile.ZipInfo(arc, date_time=_DATE)
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, files[arc])
        os.chmod(tmp, 0o755)
        os.replace(tmp, output)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return output


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sipstreams_plugin.package", description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="+", help="module files or package directories of the plugin")
    ap.add_argument("--main", required=True, dest="entry", help="module:function that serves the plugin")
    ap.add_argument("-o", "--output", required=True, help="the plugin file (sipstreams-plugin-NAME)")
    ap.add_argument("--version", default="dev", help="version returned by sipstreams_plugin.build_version()")
    ap.add_argument("--python", default=DEFAULT_PYTHON, help="interpreter of the shebang line (absolute path)")
    a = ap.parse_args(argv)
    try:
        build(a.output, a.sources, a.entry, a.version, a.python)
    except (ValueError, OSError) as e:
        print(f"package: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
