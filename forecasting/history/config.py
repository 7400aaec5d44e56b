"""Loading YAML files into frozen pydantic models, with errors that name the key.

Mapping files, targets files and scenario files all go through here, so a misspelt key or a
wrong value is reported the same way everywhere: file, key, what was expected (for an unknown
key, the keys allowed at that place).
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from forecasting.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class StrictLoader(yaml.SafeLoader):
    """Safe YAML, stricter: a key given twice is an error (the last one silently won), and
    dates stay the text they were written as (2003-02-30 crashed PyYAML's date parser; the
    models check dates and say what is wrong)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise DuplicateKey(None, None, f"key '{key}' given twice", key_node.start_mark)
            seen.add(key) if isinstance(key, (str, int, float, bool)) else None
        return super().construct_mapping(node, deep=deep)


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str):
    """``text`` parsed as strict safe YAML (see :class:`StrictLoader`)."""
    return yaml.load(text, Loader=StrictLoader)  # a SafeLoader subclass: no arbitrary objects


def read_yaml_mapping(path: str | Path, what: str) -> dict:
    """The YAML file as a dict, or an InputError naming the file (and line) when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found", path=path, expected=f"a YAML {what}")
    try:
        data = load_yaml_text(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.object[exc.start]:#x} at offset {exc.start})",
            path=path,
            expected=f"a {what} saved as UTF-8",
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot read it ({exc.strerror or exc})", path=path, expected=f"a readable {what}"
        ) from None
    except DuplicateKey as exc:
        raise InputError(
            exc.problem, path=path, row=exc.problem_mark.line + 1, expected="each key once in its mapping"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            "invalid YAML", path=path, row=mark.line + 1 if mark else None, expected=f"a valid YAML {what}"
        ) from None
    if data is None:
        raise InputError(
            f"empty {what}", path=path, expected=f"a YAML {what} with its keys (the file holds none)"
        )
    if not isinstance(data, dict):
        raise InputError(
            f"invalid {what}",
            path=path,
            expected="a YAML mapping of keys to values",
            found=type(data).__name__,
        )
    return data


def validate_mapping(
    data: dict, model: type[Model], path: str | Path | None, literal_hint: str = ""
) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(Path(path) if path else None, exc, literal_hint, model) from None


def load_yaml(path: str | Path, model: type[Model], what: str, literal_hint: str = "") -> Model:
    """Parse ``path`` with ``yaml.safe_load`` into ``model``; raise InputError naming the key."""
    return validate_mapping(read_yaml_mapping(path, what), model, path, literal_hint)


def validation_error(
    path: Path | None, exc: ValidationError, literal_hint: str = "", model: type[BaseModel] | None = None
) -> InputError:
    errors = exc.errors()
    err = next(
        (e for e in errors if e["type"] == "extra_forbidden"), errors[0]
    )  # a misspelt key explains the rest
    loc = [p for p in err["loc"] if p != "[key]"]
    key = ".".join(str(p) for p in loc) or None
    kind = err["type"]
    found = err.get("input")
    found = None if isinstance(found, (dict, list)) else found  # a whole section is no help in one line
    if kind == "missing":
        return InputError("missing key", path=path, key=key, expected="a value for it (it is required)")
    if "[key]" in err["loc"]:
        kind = "extra_forbidden" if kind != "literal_error" else "unknown_name"
    if kind == "unknown_name":
        return InputError("unknown key", path=path, key=key, expected=literal_hint or "a known name")
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, loc[:-1]) if model else []
        expected = ("one of " + ", ".join(allowed)) if allowed else "no such key (check the spelling)"
        return InputError("unknown key", path=path, key=key, expected=expected)
    if kind == "literal_error" and literal_hint:
        expected = literal_hint
    else:
        message = err["msg"].removeprefix("Value error, ")
        expected = message[0].lower() + message[1:] if message else kind
        expected = expected.replace("input should be", "").strip() or expected
    return InputError("bad value", path=path, key=key, expected=expected, found=found)


def allowed_keys(model: type[BaseModel], loc: list) -> list[str]:
    """The field names of the model found at ``loc`` (through lists, dicts and optionals)."""
    current: object = model
    for part in loc:
        current = _model_in(current)
        if current is None:
            return []
        if isinstance(part, int) or part not in current.model_fields:
            continue  # a list index or a dict key: _model_in has unwrapped the container
        current = current.model_fields[part].annotation
    found = _model_in(current)
    return [f.alias or name for name, f in found.model_fields.items()] if found else []


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``X``, ``X | None``, ``list[X]``, ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict, tuple, typing.Annotated):
        for arg in reversed(typing.get_args(annotation)):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
