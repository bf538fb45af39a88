"""The catalogue behind ``gates explain``, ``gates list`` and ``gates schema``."""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from albor_gates import checks
from albor_gates.checks.base import CheckKind
from albor_gates.errors import SpecError, UsageError
from albor_gates.extras import install_line
from albor_gates.spec.loader import LoadedSpec, SpecResolver, suggest
from albor_gates.spec.models import Band, Gate, Spec
from albor_gates.spec.resources import spec_files

_REPORT_SCHEMA = Path(__file__).resolve().parent.parent / "render" / "report.schema.json"


def _all_specs(extra: Sequence[Path]) -> tuple[list[LoadedSpec], list[str]]:
    resolver = SpecResolver(list(extra))
    loaded: list[LoadedSpec] = []
    broken: list[str] = []
    seen: set[Path] = set()
    for folder in resolver.dirs:
        for f in spec_files(folder):
            if f.resolve() in seen:
                continue
            seen.add(f.resolve())
            try:
                loaded.append(resolver.load(f))
            except SpecError as e:
                broken.append(str(e.problems[0]))
    return loaded, broken


def _kind_text(kind: CheckKind) -> str:
    lines = [f"{kind.KIND} (version {kind.VERSION}) — {kind.TITLE}", ""]
    lines.append(textwrap.dedent(kind.__doc__ or "").strip())
    lines.append("")
    roles = ", ".join(kind.ROLES) or "none"
    if kind.OPTIONAL_ROLES:
        roles += f" (optional: {', '.join(kind.OPTIONAL_ROLES)})"
    lines.append(f"Artifact roles: {roles}")
    if kind.DEFAULT_EXPECT:
        lines.append(f"Default band: {Band.model_validate(dict(kind.DEFAULT_EXPECT)).describe()}")
    if kind.NEEDS:
        lines.append(f"Needs: {', '.join(sorted(kind.NEEDS))}")
    if kind.EXTRAS:
        lines.append(f"Extras: {', '.join(kind.EXTRAS)} ({install_line(*kind.EXTRAS)})")
    lines.append("Params:")
    schema = kind.Params.model_json_schema()
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not props:
        lines.append("  (none)")
    for name, p in props.items():
        default = "" if name in required else f" = {json.dumps(p.get('default'))}"
        typ = p.get("type") or " | ".join(
            str(a.get("type", a.get("$ref", "?"))) for a in p.get("anyOf", [])
        )
        req = " (required)" if name in required else ""
        lines.append(f"  {name}: {typ}{default}{req}")
    return "\n".join(lines) + "\n"


def _gate_text(gate: Gate, spec: LoadedSpec, index: int) -> str:
    line = spec.gate_position(index)[0]
    lines = [
        f"{gate.id} — {gate.title}",
        f"  spec: {spec.spec.id} {spec.spec.version} ({spec.doc.file}:{line})",
    ]
    src = gate.source or spec.spec.source
    if src:
        where = ", ".join(x for x in (src.version, src.section) if x)
        lines.append(f"  source: {src.document}" + (f" ({where})" if where else ""))
    lines.append(
        f"  check: {gate.check}  severity: {gate.severity}  required: {str(gate.required).lower()}"
    )
    if gate.params:
        lines.append(f"  params: {json.dumps(gate.params, sort_keys=True, default=str)}")
    if gate.expect:
        lines.append(f"  expect: {gate.expect.describe()}")
    if gate.warn:
        lines.append(f"  warn: {gate.warn.describe()}")
    if gate.baseline:
        b = gate.baseline
        lines.append(
            f"  baseline: {b.direction}, max regression abs={b.max_regression_abs} "
            f"rel={b.max_regression_rel}"
        )
    if gate.aliases:
        lines.append("  also known as:")
        for a in gate.aliases:
            where = ", ".join(x for x in (a.version, a.section) if x)
            meaning = f" — {a.meaning}" if a.meaning else ""
            lines.append(
                f"    {a.id} in {a.document}{' (' + where + ')' if where else ''}{meaning}"
            )
    for label, text in (("description", gate.description), ("rationale", gate.rationale)):
        if text:
            lines.append(
                f"  {label}: " + textwrap.fill(text, 92, subsequent_indent="    ").lstrip()
            )
    for f in gate.falsifiers:
        lines.append(f"  falsifier {f.id}: {f.prediction}")
    return "\n".join(lines) + "\n"


def kind_help(kinds: Iterable[str]) -> dict[str, str]:
    """The ``gates explain`` text of each known kind in ``kinds`` (a SARIF rule's ``help``)."""
    found = {k: checks.get(k) for k in set(kinds)}
    return {k: _kind_text(kind) for k, kind in sorted(found.items()) if kind is not None}


def explain_matches(term: str, extra: Sequence[Path] = ()) -> list[dict[str, str]]:
    """What ``term`` names: a check kind, gates with that id, gates with that alias.

    Each match is ``{"type": "kind" | "gate" | "alias", "id", "spec", "text"}`` (``text`` is
    what ``gates explain`` prints for it; ``spec`` is empty for a kind).

    Raises:
        UsageError: when nothing matches (with a suggestion).
    """
    kind = checks.get(term)
    if kind is not None:
        return [{"type": "kind", "id": kind.KIND, "spec": "", "text": _kind_text(kind)}]
    specs, _ = _all_specs(extra)
    direct: list[dict[str, str]] = []
    via_alias: list[dict[str, str]] = []
    names: set[str] = set(checks.known_kinds())
    for s in specs:
        for i, g in enumerate(s.spec.gates):
            names.add(g.id)
            names.update(a.id for a in g.aliases)
            match = {"id": g.id, "spec": s.spec.id, "text": _gate_text(g, s, i)}
            if g.id.lower() == term.lower():
                direct.append({"type": "gate", **match})
            elif any(a.id.lower() == term.lower() for a in g.aliases):
                via_alias.append({"type": "alias", **match})
    if not direct and not via_alias:
        hint = suggest(term, names) or "see `gates list --what gates` and `gates list`"
        raise UsageError(f"nothing named {term!r} ({hint})")
    return direct + via_alias


def explain_term(term: str, extra: Sequence[Path] = ()) -> str:
    """Explain a check kind, a gate id, or an alias (every gate that carries it).

    Raises:
        UsageError: when nothing matches (with a suggestion).
    """
    matches = explain_matches(term, extra)
    out = [m["text"] for m in matches if m["type"] != "alias"]
    via_alias = [m["text"] for m in matches if m["type"] == "alias"]
    if via_alias:
        out.append(
            f"{term} is also an alias: other documents number {len(via_alias)} gate(s) this way:\n"
        )
        out += via_alias
    return "\n".join(out)


def kinds_data() -> list[dict[str, Any]]:
    """Every check kind: name, version, title, what it needs (and the extras), its roles."""
    return [
        {
            "kind": name,
            "version": kind.VERSION,
            "title": kind.TITLE,
            "needs": sorted(kind.NEEDS),
            "extras": list(kind.EXTRAS),
            "roles": list(kind.ROLES),
            "optional_roles": list(kind.OPTIONAL_ROLES),
        }
        for name, kind in checks.load_all().items()
    ]


def list_kinds() -> str:
    """One line per check kind."""
    width = max(len(k) for k in checks.known_kinds())
    lines = []
    for k in kinds_data():
        needs = f" [needs {', '.join(k['needs'])}]" if k["needs"] else ""
        lines.append(f"{k['kind']:<{width}}  {k['title']}{needs}")
    return "\n".join(lines) + "\n"


def specs_data(extra: Sequence[Path] = ()) -> dict[str, Any]:
    """Every spec file on the search path (``specs``) and the unreadable ones (``broken``)."""
    specs, broken = _all_specs(extra)
    rows = [
        {"id": s.spec.id, "kind": s.spec.kind, "gates": len(s.spec.gates), "file": s.doc.file}
        for s in sorted(specs, key=lambda s: s.spec.id)
    ]
    return {"specs": rows, "broken": broken}


def list_specs(extra: Sequence[Path] = ()) -> str:
    """One line per spec file found on the search path."""
    data = specs_data(extra)
    lines = [
        f"{s['id']:<28} {s['kind']:<7} {s['gates']:>3} gates  {s['file']}" for s in data["specs"]
    ]
    lines += [f"(unreadable) {b}" for b in data["broken"]]
    return "\n".join(lines) + "\n"


def gates_data(extra: Sequence[Path] = ()) -> list[dict[str, Any]]:
    """Every gate of the specs on the search path, sorted by id then spec."""
    specs, _ = _all_specs(extra)
    rows = [
        {
            "id": g.id,
            "spec": s.spec.id,
            "check": g.check,
            "severity": g.severity,
            "required": g.required,
            "tags": list(g.tags),
            "aliases": [a.id for a in g.aliases],
        }
        for s in specs
        for g in s.spec.gates
    ]
    return sorted(rows, key=lambda r: (r["id"], r["spec"]))


def list_gates(extra: Sequence[Path] = ()) -> str:
    """One line per gate: id, spec, check, severity and aliases."""
    rows = []
    for g in gates_data(extra):
        aka = f"  (aka {', '.join(g['aliases'])})" if g["aliases"] else ""
        rows.append(f"{g['id']:<32} {g['spec']:<24} {g['check']:<22} {g['severity']}{aka}")
    return "\n".join(sorted(rows)) + "\n"


def spec_schema() -> dict[str, Any]:
    """JSON Schema of spec files, with each check kind's params attached by ``check``."""
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "albor-gates spec"
    defs = schema.setdefault("$defs", {})
    branches = []
    for name, kind in checks.load_all().items():
        ps = copy.deepcopy(kind.Params.model_json_schema(by_alias=True))
        for dname, d in ps.pop("$defs", {}).items():
            defs.setdefault(dname, d)
        pname = "Params_" + name.replace(".", "_")
        defs[pname] = ps
        branches.append(
            {
                "if": {"properties": {"check": {"const": name}}, "required": ["check"]},
                "then": {"properties": {"params": {"$ref": f"#/$defs/{pname}"}}},
            }
        )
    gate = defs["Gate"]
    gate["allOf"] = branches
    gate["properties"]["check"]["enum"] = checks.known_kinds()
    return schema


def report_schema() -> dict[str, Any]:
    """JSON Schema of the JSON report."""
    data: dict[str, Any] = json.loads(_REPORT_SCHEMA.read_text(encoding="utf-8"))
    return data
