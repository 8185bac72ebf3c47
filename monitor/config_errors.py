"""Turn config validation failures into problems that name the file, the line and the key."""

from __future__ import annotations

import difflib
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

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


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The Pydantic model that owns the mapping at ``loc`` (to list its valid keys)."""
    current: Any = model
    for part in loc:
        current = _unwrap_optional(current)
        if _is_model(current):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (list, tuple) and isinstance(part, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]  # ``part`` is the user's own key, e.g. a model name
        else:
            return None
    current = _unwrap_optional(current)
    return current if _is_model(current) else None


def _unknown_key_message(key: Any, owner: type[BaseModel] | None) -> str:
    if owner is None:
        return "unknown key"
    valid = sorted(owner.model_fields)
    close = difflib.get_close_matches(str(key), valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({hint}valid keys here: {', '.join(valid)})"


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _duplicate_problems(path: Path, root: yaml.Node | None, repeats: list[dict[str, Any]]) -> list[ConfigProblem]:
    problems = []
    for repeat in repeats:
        (fc, fp), (c, p) = repeat["first"], repeat["again"]
        first_loc = ("competitors", fc, "pages", fp, "url")
        again_loc = ("competitors", c, "pages", p, "url")
        first_node, _ = _walk(root, first_loc)
        again_node, _ = _walk(root, again_loc)
        first_line = _line(first_node)
        where = f"line {first_line}, " if first_line else ""
        message = f"page {repeat['url']} is listed twice (first at {where}{_dotted(first_loc)})"
        problems.append(ConfigProblem(path, _line(again_node), _dotted(again_loc), message))
    return problems


# error types whose message does not show the offending value; the problem adds it
_SHOW_INPUT = ("_type", "_parsing")


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
        if error["type"] == "duplicate_url":
            problems.extend(_duplicate_problems(path, root, error["ctx"]["repeats"]))
            continue
        if error["type"] == "extra_forbidden":
            message = _unknown_key_message(loc[-1] if loc else "", _model_at(model, loc[:-1]))
        elif error["type"].endswith(_SHOW_INPUT) and isinstance(error["input"], str | int | float | bool):
            message = f"{message} (got {error['input']!r})"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] in ("enum", "literal_error"):
            message = f"{error['input']!r} is not allowed; {error['msg'].lower()}"
        problems.append(ConfigProblem(path, line, _dotted(loc), message))
    return problems


def file_problems(path: Path, root: yaml.Node | None, config: Any) -> list[ConfigProblem]:
    """Checks that need the file system: the company profile, rubric and battle cards must exist."""
    problems = []
    if config.company and not config.path(config.company).is_file():
        _, key = _walk(root, ("company",))
        line = key.start_mark.line + 1 if key else None
        problems.append(ConfigProblem(path, line, "company", f"file not found: {config.path(config.company)}"))
    rubric = getattr(config.classifier, "rubric", None)
    if rubric and not config.path(rubric).is_file():
        _, key = _walk(root, ("classifier", "rubric"))
        problems.append(
            ConfigProblem(path, _line(key), "classifier.rubric", f"rubric not found: {config.path(rubric)}")
        )
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
