"""Test hygiene and shared fixtures.

- Secrets are cleared from the environment for every test.
- ``site`` is a real HTTP server on 127.0.0.1 whose pages a test sets.
- ``chromium`` finds a real browser; tests that need one skip with a clear reason where none
  is installed, except under CI (``CI=true``), where a missing browser or PostgreSQL fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from loopback import LoopbackSite  # noqa: E402

SECRET_VARS = ("SLACK_BOT_TOKEN", "OPENAI_API_KEY", "RIVALWATCH_CONFIG", "DATABASE_URL", "PGPASSWORD")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    # nothing in a test may reach past loopback through a proxy
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def site():
    with LoopbackSite() as server:
        yield server


def need(what: str, reason: str) -> None:
    """Skip for a missing service on a user's machine; fail under CI, where it must exist."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI: {reason}")
    pytest.skip(f"{what} not available: {reason}")


@pytest.fixture
def llm():
    """An OpenAI-compatible server on 127.0.0.1 with scripted answers (tests/openai_server.py)."""
    from openai_server import OpenAICompatibleServer

    with OpenAICompatibleServer() as server:
        yield server


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The key the test configs name (llm_support.KEY_ENV), set for this test only."""
    from llm_support import KEY_ENV

    monkeypatch.setenv(KEY_ENV, "sk-loopback-test")
    return "sk-loopback-test"


@pytest.fixture(scope="session")
def chromium_path() -> str | None:
    """The system Chromium, or None to use Playwright's own; skips when neither exists."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    from monitor.fetch.chromium import playwright_browser_installed

    if playwright_browser_installed():
        return None
    need("Chromium", "install it with `apt-get install -y chromium` (or `playwright install chromium`)")
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("RIVALWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        need("PostgreSQL", "nothing listens on 127.0.0.1:5432")
    return url
