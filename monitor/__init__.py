"""rivalwatch's core: config, fetching, extraction, storage, diff and the daemon."""

from monitor import _native

_native.install()  # before anything imports the parser: use its compiled build only if current
