"""Total numeric reads: every number albor-gates takes from a file fits a 64-bit float.

A hostile evidence file or config.json can hold a 401-digit integer or ``1e999``; Python reads
the first as an exact int and the second as ``inf``, and the first ``float()`` on the way to a
band then raises OverflowError — a crash (exit 3) where the gate should ERROR. So the JSON and
YAML readers refuse such literals where they parse them (with the file and line), and
:func:`to_float` is the one conversion the judge and the checks use.

``NaN`` / ``Infinity`` spelled as such stay readable: a non-finite measurement is a finding
(it always FAILs), not a malformed file.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from albor_gates.errors import EvidenceError

#: The largest integer a float can hold without overflowing (about 1.8e308).
MAX_FLOAT_INT = int(sys.float_info.max)


def _short(token: str) -> str:
    return token if len(token) <= 24 else f"{token[:12]}…{token[-4:]} ({len(token)} characters)"


def check_int(value: int, token: str | None = None) -> int:
    """``value`` when a float can hold it; else ValueError naming the literal."""
    if abs(value) > MAX_FLOAT_INT:
        shown = _short(token) if token is not None else f"of {value.bit_length()} bits"
        raise ValueError(f"integer {shown} is out of the range of a 64-bit float")
    return value


def parse_int(token: str) -> int:
    """``parse_int`` hook for :func:`json.loads`: refuse integers no float can hold."""
    if len(token) > 330:  # never build a huge int just to find it too large
        raise ValueError(f"integer {_short(token)} is out of the range of a 64-bit float")
    return check_int(int(token), token)


def parse_float(token: str) -> float:
    """``parse_float`` hook for :func:`json.loads`: refuse ``1e999`` (overflow, not a value)."""
    value = float(token)
    if math.isinf(value):
        raise ValueError(f"number {_short(token)} overflows a 64-bit float")
    return value


def to_float(value: Any, what: str = "value") -> float:
    """``float(value)`` for an int or float, as EvidenceError instead of OverflowError.

    Raises:
        EvidenceError: naming ``what`` when the value is out of range or not a number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvidenceError(f"{what} is {value!r}, not a number")
    try:
        return float(value)
    except OverflowError as e:
        raise EvidenceError(
            f"{what} is an integer of {int(value).bit_length()} bits, out of the range of a "
            "64-bit float; fix the file"
        ) from e
