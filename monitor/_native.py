"""The compiled parser: mypyc builds of the modules every page's extraction runs through.

``pip install`` compiles ``COMPILED`` with mypyc where a C compiler is at hand (``setup.py``),
which makes a page's extraction about 15% cheaper (``bench/crawl.py``). The ``.py`` files stay
the source of truth and the fallback: without a compiler, rivalwatch runs them as they are.

A compiled module shadows its ``.py`` on import, so an edited checkout would quietly run the
code it was built from. ``setup.py`` records the sha256 of each source it compiled in
``_native.json``; ``install()`` (run by ``monitor/__init__.py``, before any of them is imported)
checks them and, when any source changed since, loads all of them from source and says how to
rebuild. All or none: compiled modules call each other directly, so one module from source
beside the others compiled would still run the old code of the others.

``RIVALWATCH_PURE=1`` loads every one from source, and makes ``pip install`` compile nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

log = logging.getLogger("rivalwatch")

COMPILED = ("monitor.cleanup", "monitor.extract", "monitor.facts", "monitor.normalize")
GROUP = "monitor._native"  # mypyc's shared library for the group: monitor/_native__mypyc.*.so
MANIFEST = "_native.json"  # beside this file: {module: sha256 of the source it was compiled from}
PURE_ENV = "RIVALWATCH_PURE"
_HERE = Path(__file__).resolve().parent
# the reasons to run from source that are a choice (or a machine without a compiler), not a stale build
NOT_COMPILED = "not compiled"
PURE = f"{PURE_ENV}=1"


def source_path(module: str, package_dir: Path = _HERE) -> Path:
    return package_dir / f"{module.rpartition('.')[2]}.py"


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compiled_path(module: str, package_dir: Path = _HERE) -> Path | None:
    """The extension module built for ``module``, if there is one for this Python."""
    name = module.rpartition(".")[2]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if (found := package_dir / f"{name}{suffix}").exists():
            return found
    return None


def why_source(package_dir: Path = _HERE, environ: Mapping[str, str] = os.environ) -> str | None:
    """Why the modules load from source, or None when their compiled builds are current."""
    if environ.get(PURE_ENV) == "1":
        return PURE
    missing = [m for m in COMPILED if compiled_path(m, package_dir) is None]
    if missing:
        return NOT_COMPILED if len(missing) == len(COMPILED) else f"no compiled build of {', '.join(missing)}"
    try:
        built = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return f"no readable {MANIFEST} beside the compiled modules"
    changed = [m for m in COMPILED if built.get(m) != source_hash(source_path(m, package_dir))]
    if changed:
        return f"{', '.join(source_path(m, package_dir).name for m in changed)} changed since it was compiled"
    return None


class _FromSource(importlib.abc.MetaPathFinder):
    """Finds ``COMPILED`` as their ``.py`` files, ahead of the extension modules beside them."""

    def __init__(self, package_dir: Path) -> None:
        self.package_dir = package_dir

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname, self.package_dir))


_reason: str | None = "not checked yet"


def install() -> None:
    """Load ``COMPILED`` from source unless their compiled builds are current; once, before import."""
    global _reason
    if any(isinstance(f, _FromSource) for f in sys.meta_path):
        return
    _reason = why_source()
    if _reason is None:
        return
    if _reason not in (NOT_COMPILED, PURE):
        log.warning("running the parser from source (slower): %s; `pip install -e .` rebuilds it", _reason)
    sys.meta_path.insert(0, _FromSource(_HERE))


def mode() -> str:
    """How the parser runs in this process, for benchmarks and status output."""
    loaded = [importlib.import_module(m) for m in COMPILED]
    if not any((m.__file__ or "").endswith(".py") for m in loaded):
        return "compiled (mypyc)"
    return f"from source ({_reason})"
