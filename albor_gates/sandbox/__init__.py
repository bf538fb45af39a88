"""Untrusted code, run apart: the sandbox that executes a model's completions (``eval.humaneval``).

A floor of its own, below ``checks`` and beside ``model``: it never imports torch, never loads a
model and never runs what it is given in the ``gates`` process (import-linter keeps it so). See
:mod:`albor_gates.sandbox.runner` for what is and is not isolated.
"""

from __future__ import annotations

from albor_gates.sandbox.runner import Limits, SandboxResult, run_python

__all__ = ["Limits", "SandboxResult", "run_python"]
