"""The numeric weight scan for the model check kinds (torch, imported lazily).

The checkpoint itself comes from :func:`albor_gates.checks.evidence.checkpoint`; this helper
runs :mod:`albor_gates.model.scan` over it once per run and device.
"""

from __future__ import annotations

from typing import Any

from albor_gates.checks.base import Context
from albor_gates.checks.evidence import checkpoint


def scan(ctx: Context, role: str = "model") -> Any:
    """The numeric scan of the checkpoint (one pass over every byte, cached for the run)."""
    view = checkpoint(ctx, role)
    if view.format == "gguf":
        from albor_gates.model.scan import scan_gguf

        device = ctx.settings.requested_device
        report = ctx.progress("numeric scan", float(view.nbytes))
        return ctx.read(
            role,
            f"scan:{device}",
            lambda _p: scan_gguf(view.raw, device=device, progress=report),
            exact=True,
        )
    from albor_gates.model.scan import scan_checkpoint

    device = ctx.settings.requested_device
    report = ctx.progress("numeric scan", float(view.nbytes))
    return ctx.read(
        role,
        f"scan:{device}",
        lambda _p: scan_checkpoint(view.raw, device=device, progress=report),
        exact=True,
    )
