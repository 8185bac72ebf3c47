"""Alert rendering (table-driven), escaping, health alerts, and the console and file responders."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
import yaml
from responder_records import classified

from monitor.config import FileAlertsConfig, RespondersConfig
from monitor.errors import DeliveryError
from monitor.records import Severity
from responders import RESPONDERS
from responders.alerts import render_alert, render_health_alert
from responders.console import ConsoleResponder, FileResponder
from responders.health import HealthEvent

DATA = Path(__file__).parent / "data"
ALERT_CASES = yaml.safe_load((DATA / "alert_cases.yaml").read_text(encoding="utf-8"))
ESCAPE_CASES = yaml.safe_load((DATA / "escape_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", ALERT_CASES, ids=[c["name"] for c in ALERT_CASES])
def test_render_alert(case: dict) -> None:
    cc = classified(case["change"])
    alert = render_alert(cc, channel=case["channel"])
    assert alert.channel == case["channel"]
    assert alert.change_id == cc.id
    assert alert.severity is cc.classification.severity
    assert alert.competitor == cc.change.competitor and alert.url == cc.change.url
    assert "\n" not in alert.title
    for part in case.get("title", []):
        assert part in alert.title
    for part in case.get("contains", []):
        assert part in alert.text
    for part in case.get("absent", []):
        assert part not in alert.text and part not in alert.title


@pytest.mark.parametrize("case", ESCAPE_CASES, ids=[c["name"] for c in ESCAPE_CASES])
def test_escape(case: dict) -> None:
    from responders import escape

    assert getattr(escape, case["function"])(case["input"]) == case["expected"]


def test_code_fence_is_longer_than_any_backtick_run_inside() -> None:
    from responders.escape import code_fence

    fenced = code_fence("a ```` b\n```\n[x](http://e)")
    assert fenced.startswith("`````\n") and fenced.endswith("\n`````")


HEALTH_CASES = yaml.safe_load((DATA / "health_alert_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", HEALTH_CASES, ids=[c["name"] for c in HEALTH_CASES])
@pytest.mark.parametrize("channel", ["console", "slack:#ops"])
def test_render_health_alert(case: dict, channel: str) -> None:
    url = "https://acme.example/pricing"
    event = HealthEvent(url, "Acme Analytics", case["kind"], case["error"], case["streak"])
    alert = render_health_alert(event, channel=channel)
    assert alert.change_id is None
    assert alert.severity is (Severity.MEDIUM if case["kind"] == "broken" else Severity.LOW)
    for part in case["contains"]:
        assert part in alert.text
    assert "Acme Analytics" in alert.title


def test_health_alert_escapes_error_text_for_slack() -> None:
    event = HealthEvent("https://a.example/", "Acme", "broken", "blocked: <!channel> says no", 3)
    alert = render_health_alert(event, channel="slack:#ops")
    assert "<!channel>" not in alert.text
    assert "&lt;!channel&gt;" in alert.text


def test_health_alert_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown health event kind"):
        render_health_alert(HealthEvent("https://a.example/", "Acme", "flaky", None, 1), channel="console")


def test_console_prints_title_and_text() -> None:
    stream = io.StringIO()
    alert = render_alert(classified({"summary": "Price rose\x1b[2J"}), channel="console")
    asyncio.run(ConsoleResponder(stream=stream).deliver(alert))
    out = stream.getvalue()
    assert alert.title in out and "Price rose[2J" in out and "\x1b" not in out


def test_console_failure_is_a_delivery_error() -> None:
    stream = io.StringIO()
    stream.close()
    alert = render_alert(classified({}), channel="console")
    with pytest.raises(DeliveryError, match="cannot print alert for change 1"):
        asyncio.run(ConsoleResponder(stream=stream).deliver(alert))


def test_console_from_config_respects_the_switch() -> None:
    assert isinstance(ConsoleResponder.from_config(RespondersConfig()), ConsoleResponder)
    assert ConsoleResponder.from_config(RespondersConfig(console=False)) is None


def test_file_appends_one_json_line_per_alert(tmp_path: Path) -> None:
    responder = FileResponder(path=tmp_path / "out" / "alerts.jsonl")
    first = render_alert(classified({"id": 1, "summary": 'quote " and\nnewline'}), channel="file")
    second = render_alert(classified({"id": 2, "severity": "low"}), channel="file")
    asyncio.run(responder.deliver(first))
    asyncio.run(responder.deliver(second))
    lines = (tmp_path / "out" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["change_id"] for r in records] == [1, 2]
    assert [r["severity"] for r in records] == ["high", "low"]
    assert records[0]["text"] == first.text and records[0]["title"] == first.title


def test_file_markdown_fences_the_text(tmp_path: Path) -> None:
    path = tmp_path / "alerts.md"
    responder = FileResponder(path=path, format="markdown")
    cc = classified({"summary": "# [click](https://evil.example) <script>x</script>", "facts": ["```\n# H"]})
    asyncio.run(responder.deliver(render_alert(cc, channel="file")))
    text = path.read_text(encoding="utf-8")
    heading, rest = text.split("\n", 1)
    assert heading.startswith("## ") and "[click]" not in heading and "<script>" not in heading
    assert "\\[click\\]" in heading and "\\<script\\>" in heading
    fence = rest.strip().split("\n", 1)[0]
    assert fence.startswith("````")  # longer than the ``` inside the text
    assert rest.strip().endswith("\n" + fence.removesuffix("text"))


def test_file_failure_is_a_delivery_error(tmp_path: Path) -> None:
    (tmp_path / "alerts.jsonl").mkdir()
    responder = FileResponder(path=tmp_path / "alerts.jsonl")
    with pytest.raises(DeliveryError, match="cannot append the alert for change 1"):
        asyncio.run(responder.deliver(render_alert(classified({}), channel="file")))


def test_file_from_config_resolves_against_the_output_folder(tmp_path: Path) -> None:
    relative = FileResponder.from_config(FileAlertsConfig(path="a/alerts.md", format="markdown"), base_dir=tmp_path)
    assert relative.path == tmp_path / "a" / "alerts.md" and relative.format == "markdown"
    absolute = FileResponder.from_config(FileAlertsConfig(path=str(tmp_path / "x.jsonl")), base_dir=Path("/nowhere"))
    assert absolute.path == tmp_path / "x.jsonl"


def test_file_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="valid: jsonl, markdown"):
        FileResponder(path=tmp_path / "a", format="xml")  # type: ignore[arg-type]


@pytest.mark.parametrize("key", sorted(RESPONDERS))
def test_registry_entries_have_key_and_docstring(key: str) -> None:
    cls = RESPONDERS[key]
    assert cls.key == key
    assert cls.__doc__ and cls.__doc__.strip() and "\n" not in cls.__doc__.strip()
    assert callable(getattr(cls, "from_config", None)) and asyncio.iscoroutinefunction(cls.deliver)


def test_responders_import_only_records_errors_and_config_from_monitor() -> None:
    import ast

    allowed = {"monitor.records", "monitor.errors", "monitor.config"}
    for path in sorted((Path(__file__).parent.parent / "responders").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name == "monitor" or name.startswith("monitor."):
                    assert name in allowed, f"{path.name} imports {name}"
