"""Evidence bundles: everything a verdict rests on, replayable without the artifacts or a GPU.

A bundle (one JSON file, ``schema: albor-gates/evidence-bundle``) holds the full text of every
spec file the run used, the sha256 and size of every artifact, each gate's raw measurement (what
``measure()`` returned — value, unit, summary, details — or the recorded skip / error), the
environment and the run's time, plus the report record it produced. ``gates replay BUNDLE``
rebuilds the plans from the embedded spec texts and judges the recorded measurements again:
same specs, same measurements, same time → the identical verdict, on a laptop, without the
weights. With ``--spec FILE`` a replay judges the recorded measurements under edited thresholds
("what would this release get under the new band?").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from albor_gates.artifacts.documents import read_json
from albor_gates.artifacts.files import sha256_path
from albor_gates.engine.clock import FrozenClock
from albor_gates.engine.plan import Plan, build_plan
from albor_gates.engine.record import _safe, to_record
from albor_gates.engine.results import Verdict
from albor_gates.engine.run import Replay, RunOptions, bind_artifacts
from albor_gates.errors import EvidenceError, SpecError, UsageError
from albor_gates.settings import RunSettings
from albor_gates.spec.loader import LoadedSpec, SpecSet, validation_problems
from albor_gates.spec.models import Spec
from albor_gates.spec.yamlsafe import load_yaml_text

BUNDLE_SCHEMA = "albor-gates/evidence-bundle"
BUNDLE_VERSION = 1


def make_bundle(plans: Sequence[Plan], opts: RunOptions, verdict: Verdict) -> dict[str, Any]:
    """Assemble the bundle of a finished evaluation (artifacts are hashed here)."""
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for plan in plans:
        for member in plan.spec_set.members:
            key = str(member.path.resolve())
            if key in seen:
                continue
            seen.add(key)
            specs.append(
                {
                    "file": member.doc.file,
                    "id": member.spec.id,
                    "sha256": member.digest,
                    "text": member.path.read_text(encoding="utf-8"),
                }
            )
    runs = []
    artifacts = []
    for plan in plans:
        declared = {k: v for k, v in opts.artifacts.items() if k in plan.artifacts}
        bound = bind_artifacts(plan, RunOptions(root=opts.root, artifacts=declared))
        runs.append(
            {
                "spec": plan.spec_id,
                "members": [m.doc.file for m in plan.spec_set.members],
            }
        )
        for name, art in sorted(bound.items()):
            exists = art.present and art.path is not None
            artifacts.append(
                {
                    "spec": plan.spec_id,
                    "name": name,
                    "path": art.display(),
                    "exists": exists,
                    "sha256": sha256_path(art.path) if exists and art.path is not None else None,
                }
            )
    measurements = []
    for r in verdict.results:
        entry: dict[str, Any] = {"spec": r.spec, "gate": r.gate_id, "check": r.check}
        entry["check_version"] = r.check_version
        entry["measured"] = r.measured
        if r.measured:
            entry.update(
                value=r.value,
                unit=r.unit,
                subject=r.subject,
                summary=r.summary,
                details=dict(r.details),
                fix=r.fix,
            )
        else:
            entry.update(
                status=r.status.value,
                message=r.message,
                details=dict(r.details),
                internal_error=r.internal_error,
            )
        measurements.append(entry)
    return _safe_bundle(
        {
            "schema": BUNDLE_SCHEMA,
            "version": BUNDLE_VERSION,
            "generated_at": verdict.generated_at.isoformat(),
            "environment": dict(verdict.environment),
            "options": dict(verdict.options),
            "skip": sorted(opts.skip),
            # a partial run replays as partial; absent (old bundles, no selection) = every gate
            **({"select": list(opts.select)} if opts.select else {}),
            **({"ignore": list(opts.ignore)} if opts.ignore else {}),
            "specs": specs,
            "runs": runs,
            "artifacts": artifacts,
            "measurements": measurements,
            "record": to_record(verdict),
        }
    )


def _safe_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe, non-finite floats as strings — re-read as floats on replay."""
    out: dict[str, Any] = _safe(data)
    return out


def _revive(value: Any) -> Any:
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value


def _load_member(entry: Mapping[str, Any]) -> LoadedSpec:
    doc = load_yaml_text(str(entry["text"]), str(entry["file"]))
    try:
        spec = Spec.model_validate(doc.data)
    except Exception as e:  # noqa: BLE001 - reported as the spec problems they are
        from pydantic import ValidationError

        if isinstance(e, ValidationError):
            raise SpecError(validation_problems(e, Spec, doc)) from None
        raise
    return LoadedSpec(spec, doc, Path(str(entry["file"])), str(entry["sha256"]))


def load_bundle(
    path: Path, replace_specs: Mapping[str, Path] | None = None
) -> tuple[list[Plan], RunOptions, dict[str, Any]]:
    """Rebuild the plans and a replay RunOptions from a bundle.

    Args:
        path: the bundle file.
        replace_specs: spec id → a file whose text replaces that spec's embedded text (judge
            the recorded measurements under edited thresholds).

    Raises:
        UsageError: the file is not a bundle of a known version.
    """
    try:
        data = read_json(path)
    except EvidenceError as e:
        raise UsageError(f"{path}: {e}") from e
    if not isinstance(data, dict) or data.get("schema") != BUNDLE_SCHEMA:
        raise UsageError(f"{path}: not an albor-gates evidence bundle (write one with --bundle)")
    if data.get("version") != BUNDLE_VERSION:
        raise UsageError(f"{path}: bundle version {data.get('version')!r} is not supported")
    members: dict[str, LoadedSpec] = {}
    for entry in data["specs"]:
        loaded = _load_member(entry)
        override = (replace_specs or {}).get(loaded.spec.id)
        if override is not None:
            text = override.read_text(encoding="utf-8")
            loaded = _load_member({"file": str(override), "sha256": "edited", "text": text})
        members[str(entry["file"])] = loaded
    plans = []
    for run in data["runs"]:
        chain = tuple(members[f] for f in run["members"])
        plans.append(build_plan(SpecSet(chain[-1], chain)))
    measurements = {
        (m["spec"], m["gate"]): {k: _revive(v) for k, v in m.items()} for m in data["measurements"]
    }
    digests = {(a["spec"], a["name"]): a["sha256"] for a in data["artifacts"]}
    paths: dict[str, str] = {}
    for a in data["artifacts"]:
        paths.setdefault(str(a["name"]), str(a["path"]))
    at = dt.datetime.fromisoformat(str(data["generated_at"]))
    try:
        settings = RunSettings.build(data.get("options", {}))
    except UsageError as e:
        raise UsageError(f"{path}: options: {e}") from e
    opts = RunOptions(
        artifacts=paths,
        skip=frozenset(data.get("skip", [])),
        select=tuple(data.get("select", [])),
        ignore=tuple(data.get("ignore", [])),
        settings=settings,
        clock=FrozenClock(at),
        environment=dict(data.get("environment", {})),
        replay=Replay(measurements, digests),
    )
    return plans, opts, data


def bundle_text(bundle: Mapping[str, Any]) -> str:
    """The bundle file's text (written with the reports as one set, see io.write_set)."""
    return json.dumps(bundle, indent=1, sort_keys=True, allow_nan=False) + "\n"
