"""Finding a Chromium to drive, and the flags it runs with.

A system Chromium (``/usr/bin/chromium``) is preferred: it is patched by the distribution and
present where ``playwright install`` cannot download. Playwright's own build is the fallback.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# --no-sandbox: containers rarely allow the user namespaces the sandbox needs;
# the rest keep a headless monitor from phoning home, updating itself or speaking QUIC
LAUNCH_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)


def system_chromium() -> str | None:
    """The path of a Chromium on PATH, or None."""
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def playwright_browser_installed() -> bool:
    """Whether ``playwright install chromium`` has put a browser where Playwright looks."""
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    base = Path(root) if root and root != "0" else Path.home() / ".cache" / "ms-playwright"
    if not base.is_dir():
        return False
    for folder in base.glob("chromium*"):
        for binary in (
            "chrome-linux64/chrome",
            "chrome-linux/chrome",
            "chrome-linux/headless_shell",
            "chrome-headless-shell-linux64/chrome-headless-shell",
        ):
            if (folder / binary).exists():
                return True
    return False


def chromium_executable(configured: str | None = None) -> str | None:
    """The binary to launch: the configured one, the system's, or None for Playwright's own."""
    return configured or system_chromium()
