"""``python -m albor_gates`` runs the ``gates`` command line."""

from __future__ import annotations

if __name__ == "__main__":
    from albor_gates._entry import import_cli

    import_cli()()
