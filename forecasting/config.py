"""Loading YAML files into frozen pydantic models, with errors that name the key.

Mapping files, targets files (and later scenario files) all go through ``load_yaml``, so a
misspelt key or a wrong value is reported the same way everywhere: file, key, what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from forecasting.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


def load_yaml(path: str | Path, model: type[Model], what: str, literal_hint: str = "") -> Model:
    """Parse ``path`` with ``yaml.safe_load`` into ``model``; raise InputError naming the key."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} not found", path=path, expected=f"a YAML {what}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError("invalid YAML", path=path, row=mark.line + 1 if mark else None, expected=f"a valid YAML {what}") from None
    if not isinstance(data, dict):
        raise InputError(f"invalid {what}", path=path, expected="a YAML mapping of keys to values", found=type(data).__name__)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc, literal_hint) from None


def validation_error(path: Path | None, exc: ValidationError, literal_hint: str = "") -> InputError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"] if p != "[key]")
    kind = err["type"]
    if "[key]" in err["loc"]:
        kind = "extra_forbidden" if kind != "literal_error" else "unknown_name"
    if kind == "unknown_name":
        return InputError("unknown key", path=path, key=key, expected=literal_hint or "a known name")
    if kind == "extra_forbidden":
        expected = "no such key (check the spelling)"
    elif kind == "literal_error" and literal_hint:
        expected = literal_hint
    else:
        message = err["msg"].removeprefix("Value error, ")
        expected = message[0].lower() + message[1:] if message else kind
        expected = expected.replace("input should be", "").strip() or expected
    if kind == "extra_forbidden":
        return InputError("unknown key", path=path, key=key, expected=expected)
    return InputError("bad value", path=path, key=key, expected=expected, found=err.get("input"))
