"""JSON that every reader accepts: Python's ``json`` writes ``NaN`` and ``Infinity``, which are
not JSON; a value that is not a finite number is written as ``null`` instead."""

from __future__ import annotations

import json
import math

import numpy as np


def finite_or_none(value):
    """The value with every non-finite float (at any depth) made None, numpy scalars made Python's."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value, **kwargs) -> str:
    """``json.dumps`` of the value with non-finite numbers as null (never invalid JSON)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)
