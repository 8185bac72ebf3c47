"""The JSON schema of the config file, generated from the Pydantic models in ``monitor.config``.

Editors use ``config/schema.json`` for completion and checks while ops edit the YAML. It is
committed, and a test keeps it equal to what ``config_schema_text()`` generates, so after a
change to the config models run:

    python -m monitor.config_schema config/schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from monitor.config import Config
from monitor.records import Severity

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _ConfigSchema(GenerateJsonSchema):
    """Severities as ops write them ("high"), not as the IntEnum stores them (3)."""

    def enum_schema(self, schema: core_schema.EnumSchema) -> dict[str, Any]:
        if schema["cls"] is Severity:
            labels = [s.label for s in Severity]
            return {
                "title": "Severity",
                "description": "How much a change matters: " + " < ".join(labels) + ".",
                "anyOf": [
                    {"type": "string", "enum": labels},
                    {"type": "integer", "enum": [int(s) for s in Severity]},
                ],
            }
        return super().enum_schema(schema)

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, Severity):
            return dft.label
        return super().encode_default(dft)


def config_schema() -> dict[str, Any]:
    """The config's JSON schema as a dict."""
    body = Config.model_json_schema(mode="validation", schema_generator=_ConfigSchema)
    body["title"] = "rivalwatch config"
    body["description"] = (
        "The watched-competitor config (rivalwatch.yaml). Relative paths are relative to the "
        "file; secrets come only from the environment. See config/rivalwatch.example.yaml."
    )
    return {"$schema": SCHEMA_DIALECT, **body}


def config_schema_text() -> str:
    """The schema as the committed file holds it: indented JSON with a final newline."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path | str) -> Path:
    """Write the schema to ``path`` and return it."""
    path = Path(path)
    path.write_text(config_schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "config/schema.json"
    print(write_schema(target))
