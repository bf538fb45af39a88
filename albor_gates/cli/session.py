"""One evaluation session, as ``gates check``, ``verify``, ``replay`` and ``dogfood`` run it.

Each command builds its plans and :class:`~albor_gates.engine.run.RunOptions`; the session
does the rest the same way for all four: evaluate (with a progress bar where the command wants
one, closed even on Ctrl-C), write the evidence bundle when asked, render the neutral record
to the chosen formats, and map the verdict to the exit code (:mod:`albor_gates.errors`).

In GitHub Actions (``GITHUB_ACTIONS=true``) it also appends the Markdown summary to
``$GITHUB_STEP_SUMMARY`` whatever ``-f`` says, and ``decision=…`` to ``$GITHUB_OUTPUT``; a file
it cannot write there is a warning line, never a failed run. ``gates -v`` logs each gate's
status and time and the artifacts read (:mod:`albor_gates.cli.verbosity`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from albor_gates.errors import EXIT_GO, EXIT_INTERNAL, EXIT_NO_GO, UsageError

if TYPE_CHECKING:
    from albor_gates.config import GatesConfig
    from albor_gates.engine.plan import Plan
    from albor_gates.engine.results import Verdict
    from albor_gates.engine.run import RunOptions
    from albor_gates.render.ci import CiContext


@dataclass(frozen=True)
class Session:
    """How a command reports one evaluation.

    Attributes:
        formats: report formats (``-f``, repeatable; default text).
        output_dir: write every format there (``-o``); else one goes to stdout.
        strict: exit 1 on WARN too.
        quiet: no table on stdout, no progress bar.
        color: colour the table (None: on a TTY without NO_COLOR).
        bundle: also write an evidence bundle for ``gates replay``.
        progress: draw a progress bar on an interactive stderr (verify, dogfood).
        exit_zero: exit 0 on WARN and NO-GO too (``--exit-zero``); an internal error is 3.
        sarif_include_pass: SARIF also lists PASS and not-selected gates.
    """

    formats: Sequence[str] = ()
    output_dir: Path | None = None
    strict: bool = False
    quiet: bool = False
    color: bool | None = None
    bundle: Path | None = None
    progress: bool = False
    exit_zero: bool = False
    sarif_include_pass: bool = False

    def run(self, plans: list[Plan], opts: RunOptions) -> int:
        """Evaluate, write the bundle and the reports; return the exit code.

        Under ``torchrun`` (``WORLD_SIZE`` > 1) every rank joins the process group first, so
        the model workloads shard across ranks; rank 0 alone writes the bundle and reports.
        """
        from albor_gates.model.distributed import in_torchrun

        if not in_torchrun():
            return self._run(plans, opts)
        from albor_gates.model.distributed import init_distributed, shutdown

        dist = init_distributed(opts.settings.requested_device)
        # one device per rank: cuda becomes cuda:LOCAL_RANK for every gate of the run
        settings = replace(opts.settings, device=str(dist.device))
        try:
            return replace(self, quiet=self.quiet or dist.rank != 0)._run(
                plans, replace(opts, settings=settings)
            )
        finally:
            shutdown()

    def _run(self, plans: list[Plan], opts: RunOptions) -> int:
        verdict = self.evaluate(plans, opts)
        extra: dict[Path, str] = {}
        if (
            self.bundle is not None and _is_rank_zero()
        ):  # written with the reports as one set: all or nothing
            from albor_gates.engine.bundle import bundle_text, make_bundle

            extra[self.bundle] = bundle_text(make_bundle(plans, opts, verdict))
        from albor_gates.engine.record import to_record

        record = to_record(verdict)
        # the rules' help text costs a schema per kind: only a SARIF report shows it
        kinds = record_kinds(record) if "sarif" in self.formats else []
        emit_reports(
            record,
            self.formats,
            self.output_dir,
            color=use_color(self.color),
            quiet=self.quiet,
            extra=extra,
            ci=ci_context(plans, kinds, include_pass=self.sarif_include_pass),
        )
        return self.exit_code(verdict)

    def evaluate(self, plans: list[Plan], opts: RunOptions) -> Verdict:
        """The verdict of ``plans`` (KeyboardInterrupt propagates: no report is written)."""
        import logging

        from albor_gates.cli.progress import LoggingObserver, log_artifacts, make_observer
        from albor_gates.cli.verbosity import LOG
        from albor_gates.engine.run import evaluate_plans

        if self.progress:
            opts = replace(opts, observer=make_observer(self.quiet))
        if LOG.isEnabledFor(logging.INFO):
            opts = replace(opts, observer=LoggingObserver(opts.observer))
        try:
            verdict = evaluate_plans(plans, opts)
            log_artifacts(verdict)
            return verdict
        finally:
            close = getattr(opts.observer, "close", None)
            if close is not None:
                close()

    def exit_code(self, verdict: Verdict, judged: Verdict | None = None) -> int:
        """0 GO, 0 WARN (1 with --strict), 1 NO-GO, 3 when a gate hit an internal bug.

        Args:
            verdict: the whole run (an internal error anywhere in it counts).
            judged: the part whose decision counts (dogfood's checklist); default the whole.
        """
        if verdict.internal_error:
            return EXIT_INTERNAL
        if self.exit_zero:
            return EXIT_GO
        decision = (judged or verdict).decision.value
        if decision == "NO-GO" or (decision == "WARN" and self.strict):
            return EXIT_NO_GO
        return EXIT_GO


def report_flags(
    config: GatesConfig, formats: Sequence[str], output_dir: Path | None, strict: bool | None
) -> dict[str, Any]:
    """A session's ``formats``, ``output_dir`` and ``strict`` (``gates check`` and ``verify``).

    A flag given wins, else the configuration's ``format``, ``output-dir`` and ``strict``.
    """
    return {
        "formats": tuple(formats) or tuple(f.value for f in config.format),
        "output_dir": output_dir or (Path(config.output_dir) if config.output_dir else None),
        "strict": strict if strict is not None else bool(config.strict),
    }


def use_color(flag: bool | None) -> bool:
    """Colour when asked, else when stdout is a terminal and NO_COLOR is unset."""
    if flag is not None:
        return flag
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit_reports(
    record: Mapping[str, Any],
    formats: Sequence[str],
    output_dir: Path | None,
    *,
    color: bool,
    quiet: bool,
    extra: Mapping[Path, str] | None = None,
    ci: CiContext | None = None,
) -> list[Path]:
    """Write the chosen formats to ``output_dir`` or print one to stdout.

    The report files and ``extra`` (the ``--bundle`` file) are one set: all are written or
    none (:func:`albor_gates.io.write_set`), before anything is printed. ``ci`` places the
    SARIF and annotation locations in the repository (:mod:`albor_gates.render.ci`).

    Returns:
        The files written.
    """
    from albor_gates.io import write_set
    from albor_gates.render import FILENAMES, Format, render
    from albor_gates.render import text as text_renderer

    if not _is_rank_zero():
        return []  # under torchrun every rank evaluates; rank 0 alone reports
    fmts = [Format(f) for f in dict.fromkeys(formats or ("text",))]
    if output_dir is None and len([f for f in fmts if f is not Format.TEXT]) > 1:
        raise UsageError("several --format values need --output-dir DIR")
    files: dict[Path, str] = {}
    if output_dir is not None:
        files = {output_dir / FILENAMES[f]: render(f, record, ci) for f in fmts}
    write_set({**files, **(extra or {})})
    written = list(files)
    if output_dir is None:
        non_text = [f for f in fmts if f is not Format.TEXT]
        if non_text:
            click.echo(render(non_text[0], record, ci), nl=False)
        elif not quiet:
            click.echo(text_renderer.render(record, color=color, width=_width()), nl=False)
    else:
        if Format.GITHUB in fmts:
            click.echo(render(Format.GITHUB, record, ci), nl=False)
        if not quiet:
            click.echo(text_renderer.render(record, color=color, width=_width()), nl=False)
            for p in written:
                click.echo(f"wrote {p}")
    github_outputs(record, ci)
    return written


def _is_rank_zero() -> bool:
    """Whether this process reports (rank 0 of a torchrun job, or a single process)."""
    return os.environ.get("RANK", "0") == "0"


def _width() -> int:
    """The terminal's width; unlimited when stdout is a file or a CI log (never truncate)."""
    import shutil

    if not sys.stdout.isatty():
        return 100_000
    return max(shutil.get_terminal_size((120, 24)).columns, 80)


def ci_context(
    plans: Sequence[Plan], kinds: Iterable[str] = (), *, include_pass: bool = False
) -> CiContext:
    """The repository view of a run over ``plans``: the working directory is the source root.

    Args:
        plans: what was evaluated (where each inherited spec was pulled in).
        kinds: the check kinds whose ``gates explain`` text becomes a SARIF rule's help.
        include_pass: SARIF also lists PASS and not-selected gates (``--sarif-include-pass``).
    """
    from albor_gates.engine.catalog import kind_help
    from albor_gates.render.ci import CiContext
    from albor_gates.spec.resources import data_dir

    extended_at: dict[str, tuple[str, int]] = {}
    for plan in plans:
        for file, site in plan.spec_set.extended_at.items():
            extended_at.setdefault(file, site)
    return CiContext(
        root=Path.cwd().resolve().as_posix(),
        extended_at=extended_at,
        bundled={data_dir(n).resolve().as_posix(): n for n in ("invariants", "specs")},
        kind_help=kind_help(kinds),
        include_pass=include_pass,
    )


def record_kinds(record: Mapping[str, Any]) -> list[str]:
    """The check kinds of a report record's gates."""
    return [g["check"] for g in record["gates"]]


def github_outputs(record: Mapping[str, Any], ci: CiContext | None) -> None:
    """In GitHub Actions, append the step summary and the decision (else nothing).

    A file that cannot be written is a warning line: the reports are already written.
    """
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from albor_gates.render import markdown

    appends = {  # variable → (what, the text, what the job lacks without it)
        "GITHUB_STEP_SUMMARY": (
            "the Markdown summary",
            lambda: markdown.render(ci.scrub(record) if ci else record),
            "the job page lacks the summary",
        ),
        "GITHUB_OUTPUT": (
            "the decision",
            lambda: f"decision={record['decision']}\n",
            "the step has no decision output",
        ),
    }
    for var, (what, text, lack) in appends.items():
        path = os.environ.get(var)
        if not path:
            continue
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text())
        except OSError as e:
            click.echo(
                f"gates: warning: cannot append {what} to ${var} ({path}): "
                f"{e.strerror or type(e).__name__}; the reports are written, {lack}",
                err=True,
            )
