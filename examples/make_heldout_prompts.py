"""Write eval/prompts.jsonl: 100 held-out Python function signatures for AC-SHIP2-007.

Deterministic: the first 100 distinct one-line ``def name(args):`` signatures, in file order,
from the release's held-out validation text (eval/val.txt, files the model never trained on),
methods included and dedented to module level. Each prompt is the signature plus a newline, so
a continuation starts the function body.

    python examples/make_heldout_prompts.py examples/albor-tiny-v1
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SIGNATURE = re.compile(r"^\s*def [A-Za-z_][A-Za-z0-9_]*\(.*\)(?:\s*->\s*[^:]+)?:\s*$")


def main(release: Path, n: int = 100) -> None:
    seen: list[str] = []
    for line in (release / "eval" / "val.txt").read_text(encoding="utf-8").splitlines():
        sig = line.strip()
        if SIGNATURE.match(line) and sig not in seen:
            seen.append(sig)
            if len(seen) == n:
                break
    out = release / "eval" / "prompts.jsonl"
    out.write_text("".join(json.dumps({"prompt": s + "\n"}) + "\n" for s in seen), encoding="utf-8")
    print(f"wrote {len(seen)} prompts to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
