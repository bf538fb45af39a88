"""cli.json_output — a tool's machine-readable output parses as strict JSON (P10, FALSIFY-QA-003).

Runs the tool once and parses ``stream`` (stdout by default) as one JSON document — or, with
``lines: true``, every non-empty line as one (JSON Lines). Parsing is strict RFC 8259: the
``NaN``, ``Infinity`` and ``-Infinity`` tokens that Python's ``json.dumps`` writes by default
are invalid (``jq`` rejects them), and so is any text before or after the document ("wrote
report.json" on stdout breaks every consumer). ``required_keys`` are field paths
(``decision``, ``summary.counts.PASS``, ``gates[0].id``) that must exist in the document (in
every line with ``lines: true``). Output over the 4 MiB capture cap is a FAIL (it cannot be
checked). The exit status is not judged here unless ``exit_codes`` lists the allowed ones —
``gates check`` exits 1 on NO-GO and still owes valid JSON. The value is true when valid.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — P10 on the JSON report::

    check: cli.json_output
    artifact: gates
    artifacts: {input: quickstart}
    params: {args: [check, --format, json, "{input}"], required_keys: [decision, gates]}

PASS: ``{"decision": "WARN", "gates": [...]}`` → "stdout is valid JSON with decision, gates".
FAIL: ``{"loss": NaN}`` → "stdout is not strict JSON: NaN is not a JSON value (line 1,
column 10)".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

from pydantic import field_validator

from albor_gates.artifacts.documents import FieldMissing, extract, parse_field_path
from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement

KIND = "cli.json_output"
VERSION = 1
TITLE = "A tool's output parses as strict JSON (no NaN/Infinity, no extra text)"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}


class Params(_cli.CommandParams):
    """Options of cli.json_output."""

    stream: _cli.Stream = "stdout"
    lines: bool = False
    required_keys: list[str] = []
    exit_codes: list[int] | None = None

    @field_validator("required_keys")
    @classmethod
    def _paths(cls, v: list[str]) -> list[str]:
        for key in v:
            parse_field_path(key)
        return v


class _NonStandard(ValueError):
    pass


def _reject_constant(token: str) -> NoReturn:
    raise _NonStandard(f"{token} is not a JSON value")


def _parse(text: str) -> tuple[Any, str | None]:
    """Parse strictly; return (document, None) or (None, reason with line and column)."""
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except json.JSONDecodeError as e:
        return None, f"{e.msg} (line {e.lineno}, column {e.colno})"
    except _NonStandard as e:
        return None, str(e)


def _missing_keys(doc: Any, keys: list[str]) -> list[str]:
    missing = []
    for key in keys:
        try:
            extract(doc, parse_field_path(key))
        except FieldMissing:
            missing.append(key)
    return missing


def validate_documents(text: str, params: Params) -> tuple[bool, str]:
    """Return (valid, the reason or what was found)."""
    stream = params.stream
    if params.lines:
        docs = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    else:
        docs = [(1, text)]
    if not docs or (not params.lines and not text.strip()):
        return False, f"{stream} is empty, not JSON"
    for lineno, chunk in docs:
        doc, err = _parse(chunk)
        where = f"line {lineno} of {stream}" if params.lines else stream
        if err is not None:
            return False, f"{where} is not strict JSON: {err}"
        missing = _missing_keys(doc, params.required_keys)
        if missing:
            return False, f"{where} lacks {', '.join(missing)}"
    keys = f" with {', '.join(params.required_keys)}" if params.required_keys else ""
    what = f"{len(docs)} JSON lines" if params.lines else "valid JSON"
    return True, f"{stream} is {what}{keys}"


def measure(ctx: Context, params: Params) -> Measurement:
    """Run once and parse the chosen stream strictly."""
    r, shown = _cli.run_once(ctx, params)
    text = r.stdout if params.stream == "stdout" else r.stderr
    truncated = r.stdout_truncated if params.stream == "stdout" else r.stderr_truncated
    if truncated:
        ok, summary = False, f"{params.stream} exceeded the capture cap; it cannot be checked"
    elif params.exit_codes is not None and r.status not in params.exit_codes:
        allowed = ", ".join(map(str, params.exit_codes))
        ok, summary = False, f"{r.describe_end()}, expected exit status {allowed}"
    else:
        ok, summary = validate_documents(text, params)
    return Measurement(
        value=ok,
        subject=f"`{shown}`",
        summary=summary,
        details=_cli.record(r, shown),
        fix="emit RFC 8259 JSON only (null for missing numbers, never NaN), nothing else on the "
        "stream",
    )
