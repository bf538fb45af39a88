"""``python -m albor_gates`` runs the ``gates`` command line."""

from __future__ import annotations

from albor_gates.cli import run

if __name__ == "__main__":
    run()
