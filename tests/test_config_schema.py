"""The committed config/schema.json is the schema the config models generate."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from monitor.config_schema import config_schema, config_schema_text, write_schema

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "config" / "schema.json"


def test_committed_schema_equals_generated() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == config_schema_text(), (
        "config/schema.json is stale: run `python -m monitor.config_schema config/schema.json`"
    )


def test_write_schema_writes_the_generated_text(tmp_path: Path) -> None:
    written = write_schema(tmp_path / "schema.json")
    assert json.loads(written.read_text(encoding="utf-8")) == config_schema()


def test_severities_are_written_as_ops_write_them() -> None:
    schema = config_schema()
    severity = schema["$defs"]["Severity"]
    assert {"type": "string", "enum": ["none", "low", "medium", "high", "critical"]} in severity["anyOf"]
    route = schema["$defs"]["SlackRoute"]["properties"]["min_severity"]
    assert route["default"] == "high"


def _schema_keys(schema: dict, node: dict, path: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Every key path the schema allows, with list items as [] and free-form mapping keys as *."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    out: set[tuple[str, ...]] = set()
    for option in node.get("anyOf", []):
        out |= _schema_keys(schema, option, path)
    for name, sub in node.get("properties", {}).items():
        out.add((*path, name))
        out |= _schema_keys(schema, sub, (*path, name))
    if isinstance(node.get("items"), dict):
        out |= _schema_keys(schema, node["items"], (*path, "[]"))
    if isinstance(node.get("additionalProperties"), dict):
        out.add((*path, "*"))
        out |= _schema_keys(schema, node["additionalProperties"], (*path, "*"))
    return out


def _yaml_keys(data: object, path: tuple[str, ...], free: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            step = "*" if path in free else str(key)
            out.add((*path, step))
            out |= _yaml_keys(value, (*path, step), free)
    elif isinstance(data, list):
        for item in data:
            out |= _yaml_keys(item, (*path, "[]"), free)
    return out


def test_every_key_in_the_example_config_is_in_the_schema() -> None:
    # a key the schema does not know would be flagged by editors using it
    schema = config_schema()
    allowed = _schema_keys(schema, schema, ())
    free = {p[:-1] for p in allowed if p and p[-1] == "*"}
    example = yaml.safe_load((ROOT / "config" / "rivalwatch.example.yaml").read_text(encoding="utf-8"))
    used = _yaml_keys(example, (), free)
    assert used - allowed == set()
