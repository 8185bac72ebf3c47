"""Build rivalwatch, compiling the parser with mypyc where this machine can (see monitor/_native.py).

Everything else is in pyproject.toml. A failed compile is not a failed install: rivalwatch then
runs the same modules as plain Python, a little slower, and says so here.
RIVALWATCH_PURE=1 compiles nothing.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
NATIVE = runpy.run_path(str(ROOT / "monitor" / "_native.py"))  # not `import monitor`: nothing else is installed yet
SOURCES = {m: NATIVE["source_path"](m, Path("monitor")) for m in NATIVE["COMPILED"]}  # relative, as mypyc wants


def say(message: str) -> None:
    print(f"rivalwatch: {message}", file=sys.stderr, flush=True)


def extensions() -> list:
    if os.environ.get(NATIVE["PURE_ENV"]) == "1":
        say(f"{NATIVE['PURE_ENV']}=1: the parser stays plain Python")
        return []
    try:
        from mypyc.build import mypycify

        return mypycify([str(p) for p in SOURCES.values()], opt_level="3", group_name=NATIVE["GROUP"])
    except (Exception, SystemExit) as exc:  # mypy missing or refusing the code: install uncompiled
        say(f"the parser stays plain Python (mypyc could not translate it: {exc!r})")
        return []


class OptionalBuildExt(build_ext):
    """build_ext that falls back to plain Python instead of failing, and records what it built."""

    def run(self) -> None:
        target = ROOT / "monitor" if self.inplace else Path(self.build_lib) / "monitor"
        manifest = target / NATIVE["MANIFEST"]
        manifest.unlink(missing_ok=True)  # a failed build must not vouch for older modules
        try:
            super().run()
        except Exception as exc:  # no C compiler, no Python headers, a compiler error
            if self.inplace:  # an older build's modules would be refused at every start: remove them
                for ext in self.extensions:
                    Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            failure = f"{type(exc).__name__}: {str(exc)[:200]}"
            say(f"the parser stays plain Python (compiling it failed: {failure}); install gcc to compile it")
            return
        if self.extensions:
            target.mkdir(parents=True, exist_ok=True)
            hashes = {m: NATIVE["source_hash"](ROOT / path) for m, path in SOURCES.items()}
            manifest.write_text(json.dumps(hashes, indent=1) + "\n")
            say("compiled the parser with mypyc")


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
