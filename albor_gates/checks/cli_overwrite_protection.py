"""cli.overwrite_protection — the tool refuses to overwrite an existing file (chaos C2/C4).

Checks that an output path the user names is never replaced silently (chaos C4 "no silent
overwrite"; the /dogfood skill runs it as its C2). ``args`` must contain ``{output}``, the
path the tool writes to. Three runs in the scratch folder:

1. control — ``{output}`` does not exist yet: the tool must exit 0 and create it (otherwise the
   args are wrong, and a tool that always fails would pass: the gate is an ERROR);
2. ``{output}`` exists with known content: the tool must exit non-zero and leave the file's
   sha256 unchanged (exit 0 without writing is a silent no-op, also a FAIL);
3. with ``force_args`` set (e.g. ``[--force]``): ``args + force_args`` must exit 0 and replace
   the file — the way to say "yes, overwrite" exists and works.

``output_name`` is the file's name (keep the extension the tool expects). The value is true
when the file is protected (and the force flag works).

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example::

    check: cli.overwrite_protection
    artifact: gates
    params: {args: [schema, -o, "{output}"], force_args: [--force], output_name: schema.json}

PASS: "gates: error: schema.json exists; pass --force to replace it", exit 2, file unchanged
→ "refused to overwrite (exited 2, sha256 unchanged); --force replaced it".
FAIL: exit 0 and a new sha256 → "overwrote the existing file without --force (exited 0)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import field_validator

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "cli.overwrite_protection"
VERSION = 1
TITLE = "A tool refuses to overwrite an existing output file without its force flag"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}

SENTINEL = "albor-gates overwrite sentinel: this file existed before the run\n"


class Params(_cli.CommandParams):
    """Options of cli.overwrite_protection."""

    force_args: list[str] | None = None
    output_name: str = "existing-output"

    @field_validator("args")
    @classmethod
    def _uses_output(cls, v: list[str]) -> list[str]:
        if not any("{output}" in a for a in v):
            raise ValueError("args must contain {output}, the path the tool writes")
        return v

    @field_validator("output_name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if not v or "/" in v or v in (".", ".."):
            raise ValueError("output_name must be a plain file name")
        return v


def measure(ctx: Context, params: Params) -> Measurement:
    """Control run, protected run, forced run; compare sha256 before and after."""
    runs: dict[str, Any] = {}
    with _cli.invoker(ctx, params, {"{output}": params.output_name}) as inv:
        out = inv.workdir / params.output_name
        shown = inv.display(params.args)
        r = inv.run(params.args)
        runs["control"] = _cli.record(r, shown)
        if r.timed_out or r.status != 0 or not out.is_file():
            made = "created" if out.is_file() else "did not create"
            raise EvidenceError(
                f"control run `{shown}` {r.describe_end()} and {made} {{output}} when it did not "
                "exist: fix args so the tool writes {output}"
            )
        out.write_text(SENTINEL, encoding="utf-8")
        before = _cli.sha256_or_none(out)
        r = inv.run(params.args)
        runs["existing"] = _cli.record(r, shown)
        after = _cli.sha256_or_none(out)
        kept = after == before
        if r.timed_out:
            ok, summary = False, f"{r.describe_end()} with an existing {{output}}"
        elif r.status == 0 and not kept:
            ok, summary = False, "overwrote the existing file without being forced (exited 0)"
        elif r.status == 0:
            ok, summary = False, "exited 0 without writing: a silent no-op, not a refusal"
        elif not kept:
            how = "deleted" if after is None else "changed"
            ok, summary = False, f"{r.describe_end()} but {how} the existing file anyway"
        else:
            ok, summary = True, f"refused to overwrite ({r.describe_end()}, sha256 unchanged)"
        if ok and params.force_args is not None:
            forced = [*params.args, *params.force_args]
            shown_forced = inv.display(forced)
            r = inv.run(forced)
            runs["forced"] = _cli.record(r, shown_forced)
            replaced = _cli.sha256_or_none(out) not in (before, None)
            flag = " ".join(params.force_args)
            if r.timed_out or r.status != 0 or not replaced:
                ok = False
                summary += f"; but `{flag}` did not replace it ({r.describe_end()})"
            else:
                summary += f"; `{flag}` replaced it"
    return Measurement(
        value=ok,
        subject=f"`{shown}` on an existing file",
        summary=summary,
        details={"sha256_before": before, "sha256_after": after, "runs": runs},
        fix="refuse an existing output path (non-zero exit, one line) unless a force flag is given",
    )
