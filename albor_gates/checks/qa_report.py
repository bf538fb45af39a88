"""qa.report — the 8 canonical `apr qa` gates of AC-SHIP2-006, read from a real `apr qa --json`.

Reads either shape an operator can hand in:

* the stored ``QaReport`` (GATES.md §3.1.5): ``gates[]`` of ``{name, passed, skipped, message,
  value?, threshold?}`` plus ``gates_executed`` / ``gates_skipped``;
* the dogfood template's jq output (§3.1.6): ``{verdict, checks: [{name, result}]}`` with
  ``result`` one of PASS / FAIL / WARN / SKIP.

The 8 canonical gates (§3.1.1, from ``llama_370m.rs``) are matched to the names the newer
``run_qa`` implements (§3.1.2) through :data:`CANONICAL` — a table, overridable per gate with
``params.canonical``. Each canonical gate gets one outcome:

* ``passed`` — reported, passed and not skipped;
* ``failed`` / ``warn`` — reported and not passed;
* ``skipped`` — reported as skipped: never a pass (`apr qa` writes ``passed: true`` for a skip,
  aprender #3965);
* ``missing`` — not in the report under any of its names: the criterion is *not discharged*
  (``probar`` has no implementation in the 12-gate build).

Gates outside the table (``metadata_plausibility``, ``performance_regression``, …) are listed as
extra and never change the count. With ``gate: NAME`` the check judges one canonical gate; without
it, all 8. The value is true when every judged gate passed; the default band is ``is_true``.

A report naming one gate twice, a ``gates_executed`` / ``gates_skipped`` that contradicts its own
list, or a document in neither shape is an ERROR naming the file and field (→ NO-GO).

PASS: all 8 canonical gates reported under either name, passed, not skipped → "8 of 8 canonical
apr qa gates passed".
FAIL: the §82 report (12 gates, 6 executed) → "3 of 8 canonical apr qa gates passed; failed:
golden_output; skipped (not a pass): ollama_parity, gpu_vs_cpu_speedup (as gpu_speedup),
ptx_parity; not discharged — absent from the report of apr 0.31.2: probar".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.artifacts.documents import read_json, read_yaml
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "qa.report"
VERSION = 1
TITLE = "The 8 canonical apr qa gates, from a QaReport or the template's {verdict, checks[]}"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ("operator",)
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}

# Canonical name (§3.1.1, AC-SHIP2-006's 8) → the names `apr qa --json` may report it under.
# The renames come from the newer run_qa in qa_gguf.rs (GATES.md §3.1.2): gpu_vs_cpu_speedup is
# implemented as gpu_speedup (F-PERF-042), cross_format_parity as format_parity (F-QUAL-032);
# probar has no implemented gate in the 12-gate build, so a report of that build never
# discharges it.
CANONICAL: dict[str, tuple[str, ...]] = {
    "golden_output": ("golden_output",),
    "throughput": ("throughput",),
    "ollama_parity": ("ollama_parity",),
    "gpu_vs_cpu_speedup": ("gpu_vs_cpu_speedup", "gpu_speedup"),
    "tensor_contract": ("tensor_contract",),
    "cross_format_parity": ("cross_format_parity", "format_parity"),
    "ptx_parity": ("ptx_parity",),
    "probar": ("probar",),
}
_RESULTS = {
    "PASS": "passed",
    "FAIL": "failed",
    "WARN": "warn",
    "SKIP": "skipped",
    "SKIPPED": "skipped",
}


class Params(CheckParams):
    """Options of qa.report."""

    gate: str | None = None
    canonical: dict[str, tuple[str, ...]] = CANONICAL


def _read(ctx: Context, role: str) -> Any:
    path = ctx.path(role)
    reader = read_yaml if path.suffix in (".yaml", ".yml") else read_json
    return ctx.read(role, "document", reader)


def _entry(path: str, where: str, item: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise EvidenceError(f"{path}: {where} is not an object with {', '.join(keys)}")
    if not isinstance(item.get("name"), str) or not item["name"]:
        raise EvidenceError(f"{path}: {where}.name is missing or not a string")
    return item


def parse(path: str, doc: Any) -> tuple[str, dict[str, tuple[str, str]]]:
    """Read a QA document into ``(shape, {reported name: (outcome, message)})``.

    Raises:
        EvidenceError: a document in neither shape, a duplicate gate name, a malformed entry
            or counters that contradict the gate list (one line naming file and field).
    """
    if isinstance(doc, dict) and isinstance(doc.get("gates"), list):
        shape, key, items = "QaReport", "gates", doc["gates"]
    elif isinstance(doc, dict) and isinstance(doc.get("checks"), list) and "verdict" in doc:
        shape, key, items = "template", "checks", doc["checks"]
    else:
        raise EvidenceError(
            f"{path}: neither a QaReport (gates[] of name/passed/skipped, GATES.md §3.1.5) nor "
            "the template's {verdict, checks[{name, result}]} (§3.1.6); save `apr qa --json` "
            "output unchanged"
        )
    out: dict[str, tuple[str, str]] = {}
    first: dict[str, int] = {}
    for i, raw in enumerate(items):
        where = f"{key}[{i}]"
        if shape == "QaReport":
            item = _entry(path, where, raw, ("name", "passed", "skipped"))
            passed, skipped = item.get("passed"), item.get("skipped", False)
            if not isinstance(passed, bool) or not isinstance(skipped, bool):
                raise EvidenceError(f"{path}: {where}: passed and skipped must be true/false")
            outcome = "skipped" if skipped else ("passed" if passed else "failed")
        else:
            item = _entry(path, where, raw, ("name", "result"))
            result = str(item.get("result", "")).upper()
            if result not in _RESULTS:
                raise EvidenceError(
                    f"{path}: {where}.result is {item.get('result')!r}; expected one of "
                    + ", ".join(sorted(_RESULTS))
                )
            outcome = _RESULTS[result]
        name = item["name"]
        if name in first:
            raise EvidenceError(
                f"{path}: {where}.name {name!r} repeats {key}[{first[name]}]; a QA report names "
                "each gate once — re-run `apr qa --json` and keep one result per gate"
            )
        first[name] = i
        out[name] = (outcome, str(item.get("message", "")))
    if shape == "QaReport":
        _check_counters(path, doc, out)
    return shape, out


def _check_counters(path: str, doc: dict[str, Any], gates: dict[str, tuple[str, str]]) -> None:
    """A report whose counters contradict its own gate list is not evidence of either."""
    skipped = sum(1 for outcome, _ in gates.values() if outcome == "skipped")
    for key, want in (("gates_executed", len(gates) - skipped), ("gates_skipped", skipped)):
        got = doc.get(key)
        if got is not None and got != want:
            raise EvidenceError(
                f"{path}: {key} is {got!r} but gates[] lists {want}; the report contradicts "
                "itself — re-run `apr qa --json`"
            )


def _apr_version(ctx: Context) -> str:
    """The apr-cli version the operator evidence names (the report itself carries none)."""
    if not ctx.has("operator"):
        return "an unrecorded apr version"
    doc = _read(ctx, "operator")
    tool = doc.get("tool") if isinstance(doc, dict) else None
    version = tool.get("version") if isinstance(tool, dict) else None
    return str(version) if version else "an unrecorded apr version"


def outcomes(
    reported: dict[str, tuple[str, str]], table: Mapping[str, tuple[str, ...]], path: str
) -> dict[str, dict[str, str | None]]:
    """Canonical gate → ``{outcome, reported_as, message}`` (see the module docstring)."""
    out: dict[str, dict[str, str | None]] = {}
    for canon, names in table.items():
        present = [n for n in names if n in reported]
        if len(present) > 1:
            raise EvidenceError(
                f"{path}: gates {' and '.join(present)} both report canonical {canon}; keep one"
            )
        if not present:
            out[canon] = {"outcome": "missing", "reported_as": None, "message": ""}
            continue
        outcome, message = reported[present[0]]
        out[canon] = {"outcome": outcome, "reported_as": present[0], "message": message}
    return out


def _label(canon: str, o: Mapping[str, str | None]) -> str:
    alias = o["reported_as"]
    return canon if alias in (None, canon) else f"{canon} (as {alias})"


def measure(ctx: Context, params: Params) -> Measurement:
    """Read the report and give each judged canonical gate its outcome."""
    path = str(ctx.path("source"))
    if params.gate is not None and params.gate not in params.canonical:
        raise EvidenceError(
            f"params.gate {params.gate!r} is not a canonical apr qa gate; known: "
            + ", ".join(params.canonical)
        )
    shape, reported = parse(path, _read(ctx, "source"))
    every = outcomes(reported, params.canonical, path)
    judged = {k: v for k, v in every.items() if params.gate in (None, k)}
    mapped = {o["reported_as"] for o in every.values()}
    extra = sorted(n for n in reported if n not in mapped)
    version = _apr_version(ctx)
    by: dict[str, list[str]] = {}
    for canon, o in judged.items():
        by.setdefault(str(o["outcome"]), []).append(_label(canon, o))
    n_pass = len(by.get("passed", []))
    summary = f"{n_pass} of {len(judged)} canonical apr qa gates passed"
    for key, words in (
        ("failed", "failed"),
        ("warn", "warned (not a pass)"),
        ("skipped", "skipped (not a pass)"),
        ("missing", f"not discharged — absent from the report of {version}"),
    ):
        if by.get(key):
            summary += f"; {words}: " + ", ".join(by[key])
    if extra:
        summary += "; extra gates reported, not counted: " + ", ".join(extra)
    return Measurement(
        value=n_pass == len(judged),
        subject=f"apr qa {params.gate}" if params.gate else "apr qa canonical gates",
        summary=summary,
        details={
            "shape": shape,
            "apr_version": version,
            "canonical": judged,
            "count": len(judged),
            "passed": n_pass,
            "reported": len(reported),
            "extra": extra,
        },
        fix="" if n_pass == len(judged) else "run every canonical gate of `apr qa` and fix it",
    )
