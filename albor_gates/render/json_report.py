"""JSON report: the neutral record itself, sorted, with a trailing newline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def render(record: Mapping[str, Any]) -> str:
    """Serialise the record (``allow_nan=False``: the record holds no bare NaN)."""
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
