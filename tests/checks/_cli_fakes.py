"""Fake command-line tools for the cli.* check-kind tests, and a one-gate evaluator.

Each fake is a small Python script written into the test's tmp_path (or, for the case files
of tests/checks/cases/, once per session by :func:`write_fakes`) and run as
``["{python}", script]`` — the placeholder the process runner expands to sys.executable.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import GateResult

VALID_MODEL = b"MAGIC\x00\x01" + bytes(range(256)) * 4  # a 1031-byte "model" with a header

# `validate FILE`: the honest validator checks magic, length and a checksum byte range; the
# liar only opens the file (and crashes with a traceback when it is missing).
VALIDATOR = """
import sys
mode, path = sys.argv[1], sys.argv[2]
if mode == "liar":
    open(path, "rb").read()
    print("ok")
    sys.exit(0)
try:
    data = open(path, "rb").read()
except OSError as e:
    print(f"validate: error: {path}: {e.strerror}", file=sys.stderr); sys.exit(2)
if len(data) != 1031 or not data.startswith(b"MAGIC") or data[8:72] != bytes(range(1, 65)):
    print(f"validate: error: {path}: not a valid model file", file=sys.stderr); sys.exit(1)
print("ok")
"""


# `clean` catches Ctrl-C and exits 130; `default` leaves Python's traceback; `deaf` ignores
# SIGINT; `quick` is done before the signal.
SIGINT_TOOL = """
import signal, sys, time
mode = sys.argv[1]
if mode == "deaf":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
if mode == "quick":
    sys.exit(0)
if mode == "clean":
    try:
        time.sleep(30)
    except KeyboardInterrupt:
        print("tool: interrupted", file=sys.stderr)
        sys.exit(130)
time.sleep(30)
"""


MEMORY_TOOL = """
import sys
mib = int(sys.argv[1])
block = bytearray(mib << 20)
block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
"""


# `write -o PATH [--force]`: honest refuses an existing PATH; `clobber` overwrites it; `noop`
# exits 0 without writing; `forceless` refuses even with --force; `never` cannot write at all.
WRITER = """
import os, sys
mode, path, force = sys.argv[1], sys.argv[3], "--force" in sys.argv
exists = os.path.exists(path)
if mode == "never":
    print("error: cannot write", file=sys.stderr); sys.exit(1)
if exists and mode == "noop":
    sys.exit(0)
if exists and mode in ("honest", "forceless") and (not force or mode == "forceless"):
    print(f"error: {path} exists; pass --force", file=sys.stderr); sys.exit(2)
open(path, "w").write("fresh output\\n")
"""


# `json` strict JSON; `nan` Python's default json.dumps of a NaN; `extra` JSON plus a line;
# `jsonl` two JSON lines; `table` text; `big` 5 MiB of JSON; `empty` nothing.
JSON_TOOL = """
import json, math, sys
cmd = sys.argv[1]
if cmd == "json":
    print(json.dumps({"decision": "GO", "gates": [{"id": "A", "value": 1.5}]}))
elif cmd == "nan":
    print(json.dumps({"decision": "GO", "loss": math.nan}))
elif cmd == "extra":
    print(json.dumps({"decision": "GO"})); print("wrote report.json")
elif cmd == "jsonl":
    print('{"step": 1}'); print(''); print('{"step": 2}')
elif cmd == "badline":
    print('{"step": 1}'); print('{"step": Infinity}')
elif cmd == "table":
    print("STATUS GATE\\nPASS   A")
elif cmd == "big":
    sys.stdout.write("[" + ",".join(["1"] * (5 << 19)) + "]")
"""


# `--json` switches the format; `--verbose` is accepted and ignored; `--strict` changes the exit.
FLAG_TOOL = """
import json, sys, time
args = sys.argv[1:]
if "--stamp" in args:
    print(f"run at {time.time_ns()}")
if "--json" in args:
    print(json.dumps({"rows": 2}))
else:
    print("rows: 2")
sys.exit(1 if "--strict" in args else 0)
"""


VERSION_TOOL = """
import sys
text = {"good": "tool 1.4.2 (3f9c2ab)", "nohash": "tool 1.4.2 (0000000)", "unknown": "tool (unknown)",
        "fail": "tool 1.4.2"}[sys.argv[1]]
print(text)
sys.exit(1 if sys.argv[1] == "fail" else 0)
"""


# A click-style CLI: `run` works, `tune` is a stub that confesses on --help, `serve` crashes on
# --help, `bench` only confesses when run bare. `--no-stubs` hides the phantoms.
PHANTOM_TOOL = """
import sys
args = sys.argv[1:]
HELP = '''Usage: tool [OPTIONS] COMMAND [ARGS]...

Options:
  --help  Show this message and exit.

Commands:
  run    Run a model on a prompt, printing the
         completion (a continuation line).
  bench  Measure throughput.
  tune   Fine-tune a model.
  serve  Serve a model over HTTP.
'''
honest = "--no-stubs" in args
args = [a for a in args if a != "--no-stubs"]
if args in ([], ["--help"]):
    print(HELP if not honest else HELP.replace("  tune   Fine-tune a model.\\n", "").replace("  serve  Serve a model over HTTP.\\n", ""))
elif args == ["tune", "--help"]:
    print("Usage: tool tune\\n\\nerror: not yet implemented")
elif args == ["serve", "--help"]:
    raise RuntimeError("no config")
elif args == ["bench"]:
    print("bench: not implemented", file=sys.stderr); sys.exit(1)
elif len(args) == 2 and args[1] == "--help":
    print(f"Usage: tool {args[0]} [OPTIONS]")
else:
    print("error: missing argument", file=sys.stderr); sys.exit(2)
"""


# A tiny tool: `ok` succeeds, `lie` reports an error but exits 0, `fail` exits 2 with an error,
# `mute` exits 1 saying nothing, `crash` dies with a traceback, `count` prints "0 errors".
EXIT_TOOL = """
import sys
cmd = sys.argv[1] if len(sys.argv) > 1 else ""
if cmd == "ok":
    print("done")
elif cmd == "lie":
    print("Error: model not found: /nonexistent.gguf", file=sys.stderr)
elif cmd == "fail":
    print("tool: error: /nonexistent.gguf: no such file", file=sys.stderr)
    sys.exit(2)
elif cmd == "mute":
    sys.exit(1)
elif cmd == "crash":
    raise ValueError("boom")
elif cmd == "count":
    print("checked 12 files: 0 errors, no failures")
elif cmd == "segv":
    import os, signal
    os.kill(os.getpid(), signal.SIGSEGV)
elif cmd == "hang":
    import time
    time.sleep(60)
elif cmd == "env":
    import os
    sys.exit(1 if "SECRET_TOKEN" in os.environ else 0)
"""

# The case files name a fake by its key: ``${cli_tools}/<key>/tool.py``.
FAKES: dict[str, str] = {
    "exit": EXIT_TOOL,
    "json": JSON_TOOL,
    "flag": FLAG_TOOL,
    "version": VERSION_TOOL,
    "phantom": PHANTOM_TOOL,
    "validator": VALIDATOR,
    "sigint": SIGINT_TOOL,
    "memory": MEMORY_TOOL,
    "writer": WRITER,
}


def write_fakes(folder: Path) -> Path:
    """Write every fake of FAKES as ``folder/<key>/tool.py`` (so messages name it `tool`), and
    the model the validator accepts as ``folder/validator/model.bin``."""
    for key, source in FAKES.items():
        (folder / key).mkdir(parents=True, exist_ok=True)
        fake_tool(folder / key, source)
    (folder / "validator" / "model.bin").write_bytes(VALID_MODEL)
    return folder


def fake_tool(tmp_path: Path, source: str, name: str = "tool.py") -> list[str]:
    """Write a Python script and return the command that runs it."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return ["{python}", str(script)]


def run_gate(
    tmp_path: Path,
    check: str,
    command: list[str],
    params: dict[str, Any] | None = None,
    *,
    expect: dict[str, Any] | None = None,
    input_text: str | bytes | None = None,
    input_name: str = "input.txt",
    pass_env: tuple[str, ...] = (),
) -> GateResult:
    """Evaluate a one-gate spec whose ``tool`` artifact is ``command``."""
    gate: dict[str, Any] = {
        "id": "G",
        "title": "The tool behaves.",
        "check": check,
        "artifact": "tool",
        "params": params or {},
    }
    artifacts: dict[str, Any] = {"tool": {"kind": "command", "command": command}}
    if input_text is not None:
        path = tmp_path / input_name
        if isinstance(input_text, bytes):
            path.write_bytes(input_text)
        else:
            path.write_text(input_text, encoding="utf-8")
        artifacts["sample"] = {"path": input_name}
        gate["artifacts"] = {"input": "sample"}
    if expect is not None:
        gate["expect"] = expect
    spec = {"id": "cli-case", "version": "1", "title": "CLI case", "artifacts": artifacts}
    spec["gates"] = [gate]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (result,) = evaluate(path, allow_exec=True, pass_env=pass_env).results
    return result
