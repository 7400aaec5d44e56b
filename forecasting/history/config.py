"""Loading YAML files into frozen pydantic models, with errors that name the key.

Mapping files, targets files and scenario files all go through here, so a misspelt key or a
wrong value is reported the same way everywhere: file, key, what was expected (for an unknown
key, the keys allowed at that place).

Parsing is bounded: a file over ``MAX_YAML_BYTES`` is refused before it is read, and so is a
document nested deeper than ``MAX_YAML_DEPTH`` or whose aliases would expand it beyond
``MAX_YAML_BYTES`` (a 400-byte "billion laughs" file of nested aliases grew to gigabytes
when validated). Every model here refuses booleans as numbers and non-finite numbers.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from forecasting.common.errors import InputError
from forecasting.common.input_rules import NUMBER_TEXT

Model = TypeVar("Model", bound=BaseModel)
NOT_A_BOOLEAN = "a number, not true or false"
NOT_NUMBER_TEXT = "a number written with the digits 0-9 (no '_', no other digits)"
UNION_MEMBER = re.compile(r"str|int|float|bool|none|[\w-]+\[.*\]")


class ConfigModel(BaseModel):
    """The base of every model a config file loads into: unknown keys refused, frozen, no
    ``.inf`` / ``.nan`` (nor the text 'inf'), and no boolean where a number is expected
    (pydantic reads ``service_level: true`` as 1.0: a target of 100 %)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_as_number(cls, value, info: ValidationInfo):
        if isinstance(value, str) and info.field_name in cls.model_fields:
            kinds = _leaf_types(cls.model_fields[info.field_name].annotation)
            if kinds & {int, float} and str not in kinds and not NUMBER_TEXT.fullmatch(value):
                raise ValueError(NOT_NUMBER_TEXT)  # pydantic read the text '1_000' as 1000
        if isinstance(value, (bool, dict, list, tuple)) and info.field_name in cls.model_fields:
            kinds = _leaf_types(cls.model_fields[info.field_name].annotation)
            if (
                kinds & {int, float}
                and bool not in kinds
                and _holds_boolean(value, deep=BaseModel not in kinds)
            ):
                raise ValueError(NOT_A_BOOLEAN)
        return value


def _leaf_types(annotation: object) -> set[type]:
    """The plain types an annotation accepts through unions, Annotated and containers (a
    nested model counts as BaseModel: it checks its own fields)."""
    if isinstance(annotation, type):
        return {BaseModel} if issubclass(annotation, BaseModel) else {annotation}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return {type(a) for a in args}
    if origin is typing.Annotated:
        return _leaf_types(args[0])
    if origin is dict:
        return _leaf_types(args[1]) if len(args) == 2 else set()
    return set().union(*(_leaf_types(a) for a in args)) if args else set()


def _holds_boolean(value: object, deep: bool) -> bool:
    if isinstance(value, bool):
        return True
    if not deep:
        return False
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return any(_holds_boolean(v, deep) for v in items)


MAX_YAML_BYTES = (
    500_000  # a config of a few KB is usual; also the bound of a document with its aliases expanded
)
MAX_YAML_DEPTH = 40  # levels of nesting (after aliases): a scenario has 5


_TIMESTAMP, _BOOL = "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool"


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class TooLarge(yaml.MarkedYAMLError):
    """A document beyond the parsing bounds; ``problem`` says which, ``context`` what is allowed."""


class BadScalar(yaml.MarkedYAMLError):
    """A value PyYAML's constructor cannot build (an integer of 5,000 digits: Python refuses to
    read more than 4,300) or that no number of the models could hold (an integer beyond the
    largest float); ``problem`` says which, ``note`` what is allowed."""


MAX_NUMBER_DIGITS = 300  # an integer of more digits overflows a float (at about 308): no model holds it


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

    def compose_node(self, parent, index):
        """Nesting counted while composing: a document of 10,000 '[' would exhaust the stack."""
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise TooLarge(
                    None,
                    None,
                    f"nested more than {MAX_YAML_DEPTH} levels deep",
                    self.peek_event().start_mark,
                    f"at most {MAX_YAML_DEPTH} levels of nesting",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        """Any value its constructor refuses (ValueError, OverflowError: Python reads at most
        4,300 decimal digits) is one error at its line, and so is an integer of more than
        ``MAX_NUMBER_DIGITS`` (``0x`` and 4,000 f's overflowed every float conversion after)."""
        try:
            value = super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, ArithmeticError) as exc:
            detail = "a number too long" if "digits" in str(exc) else f"a value YAML cannot read ({exc})"
            raise BadScalar(
                None,
                None,
                f"{detail} ({len(str(node.value)):,} characters)",
                node.start_mark,
                f"a number of at most {MAX_NUMBER_DIGITS} digits",
            ) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_NUMBER_DIGITS:
            raise BadScalar(
                None,
                None,
                f"a number too large ({len(str(node.value)):,} characters)",
                node.start_mark,
                f"a number of at most {MAX_NUMBER_DIGITS} digits",
            )
        return value

    def construct_document(self, node):
        """The document built only once its size with every alias written out is known to be
        within bounds: PyYAML shares an alias's object, but validating, merging or printing the
        result walks every copy."""
        expanded_size(node)
        return super().construct_document(node)


def expanded_size(root: yaml.Node) -> int:
    """Characters of the document with every alias expanded, checked against MAX_YAML_BYTES
    and MAX_YAML_DEPTH as it is counted (each node once: aliases are shared nodes)."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, expanded height)
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            total, height = sizes[key]
        elif key in open_nodes:
            raise TooLarge(
                None,
                None,
                "an alias refers to the collection it is in",
                node.start_mark,
                "aliases that refer to finished collections only",
            )
        elif isinstance(node, yaml.ScalarNode):
            total, height = len(node.value) + 1, 1
        else:
            open_nodes.add(key)
            children = (
                node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            )
            total, height = 1, 1
            for child in children:
                child_total, child_height = size(child, depth + 1)
                total, height = total + child_total, max(height, child_height + 1)
                if total > MAX_YAML_BYTES:
                    break
            open_nodes.discard(key)
            sizes[key] = total, height
        if depth + height - 1 > MAX_YAML_DEPTH:
            raise TooLarge(
                None,
                None,
                f"nested more than {MAX_YAML_DEPTH} levels deep once its aliases are expanded",
                node.start_mark,
                f"at most {MAX_YAML_DEPTH} levels of nesting",
            )
        if total > MAX_YAML_BYTES:
            raise TooLarge(
                None,
                None,
                f"its aliases expand it to more than {MAX_YAML_BYTES:,} characters",
                node.start_mark,
                f"at most {MAX_YAML_BYTES:,} characters with every alias written out",
            )
        return total, height

    return size(root, 1)[0]


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_TIMESTAMP, _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.2 booleans: only true / false. A ticket status 'No' or a column 'On' stays text (YAML
# 1.1 read them as false / true, kept as 'False' / 'True'); a setting given yes / no still
# reads as a boolean where the model expects one.
StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml_text(text: str):
    """``text`` parsed as strict safe YAML within the bounds (see :class:`StrictLoader`)."""
    if len(text) > MAX_YAML_BYTES:
        raise TooLarge(
            None, None, f"{len(text):,} characters", None, f"at most {MAX_YAML_BYTES:,} characters"
        )
    return yaml.load(text, Loader=StrictLoader)  # a SafeLoader subclass: no arbitrary objects


def read_bounded(path: Path, what: str, limit: int = MAX_YAML_BYTES) -> bytes:
    """The file's bytes, refused unread when over ``limit`` (a device or a growing file is
    cut at the limit rather than read for ever)."""
    if path.exists() and not path.is_file():
        raise InputError("not a regular file", path=path, expected=f"a YAML {what}")
    if not path.is_file():
        raise InputError(f"{what} not found", path=path, expected=f"a YAML {what}")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(
            f"cannot read it ({exc.strerror or exc})", path=path, expected=f"a readable {what}"
        ) from None
    if len(data) > limit:
        size = path.stat().st_size
        raise InputError(
            f"too large ({size:,} bytes)" if size > limit else "too large",
            path=path,
            expected=f"a {what} of at most {limit:,} bytes",
        )
    return data


def read_yaml_mapping(path: str | Path, what: str) -> dict:
    """The YAML file as a dict, or an InputError naming the file (and line) when it is not one."""
    path = Path(path)
    raw = read_bounded(path, what)
    try:
        data = load_yaml_text(raw.decode("utf-8"))
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
    except (TooLarge, BadScalar) as exc:
        mark = exc.problem_mark
        raise InputError(
            exc.problem, path=path, row=mark.line + 1 if mark else None, expected=exc.note
        ) from None
    except RecursionError:  # a shape the bounds above did not foresee: still one line
        raise InputError(
            "nested too deeply", path=path, expected=f"at most {MAX_YAML_DEPTH} levels"
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
    while loc and isinstance(loc[-1], str) and UNION_MEMBER.fullmatch(loc[-1]):
        loc.pop()  # which member of a union failed ('str', 'float'): no key of the file
    key = ".".join(str(p) for p in loc) or None
    kind = err["type"]
    found = err.get("input")
    found = None if isinstance(found, (dict, list)) else found  # a whole section is no help in one line
    found = str(found).lower() if isinstance(found, bool) else found  # as YAML spells it
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
