"""Turn config validation failures into problems that name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from monitor.errors import ConfigProblem


def _walk(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, yaml.Node | None]:
    """Follow a Pydantic error location through the YAML node tree: (value node, key node)."""
    key_node = None
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for k, v in node.value:
                if k.value == part:
                    key_node, node = k, v
                    break
            else:
                return node, key_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, key_node = node.value[part], None
        else:
            return node, key_node
    return node, key_node


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The Pydantic model that owns the mapping at ``loc`` (to list its valid keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return None
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            found = next((c for c in (candidate, *inner) if isinstance(c, type) and issubclass(c, BaseModel)), None)
            if found:
                current = found
                break
        else:
            return None
    return current if isinstance(current, type) else None


def validation_problems(
    path: Path, root: yaml.Node | None, exc: ValidationError, model: type[BaseModel]
) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        value_node, key_node = _walk(root, loc)
        mark_node = key_node or value_node
        line = mark_node.start_mark.line + 1 if mark_node is not None else None
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            valid = ", ".join(sorted(owner.model_fields)) if owner else "?"
            message = f"unknown key (valid keys here: {valid})"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] in ("enum", "literal_error"):
            message = f"{error['input']!r} is not allowed; {error['msg'].lower()}"
        problems.append(ConfigProblem(path, line, _dotted(loc), message))
    return problems


def file_problems(path: Path, root: yaml.Node | None, config: Any) -> list[ConfigProblem]:
    """Checks that need the file system: the company profile and battle cards must exist."""
    problems = []
    if config.company and not config.path(config.company).is_file():
        _, key = _walk(root, ("company",))
        line = key.start_mark.line + 1 if key else None
        problems.append(ConfigProblem(path, line, "company", f"file not found: {config.path(config.company)}"))
    for i, competitor in enumerate(config.competitors):
        if competitor.battlecard and not config.path(competitor.battlecard).is_file():
            _, key = _walk(root, ("competitors", i, "battlecard"))
            line = key.start_mark.line + 1 if key else None
            problems.append(
                ConfigProblem(
                    path,
                    line,
                    f"competitors[{i}].battlecard",
                    f"battle card not found: {config.path(competitor.battlecard)}",
                )
            )
    return problems
