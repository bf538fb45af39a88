"""albor-gates: spec-and-gate compliance engine for ML model releases."""

from __future__ import annotations

__version__ = "0.1.0"
