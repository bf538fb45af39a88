"""Run settings: one typed object, validated before anything is read, with exact messages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import albor_gates
from albor_gates.errors import UsageError
from albor_gates.settings import RunSettings

DEVICES = "(use auto, cpu, cuda, cuda:N or mps)"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"devcie": "cpu"}, "unknown setting 'devcie' (did you mean 'device'?)"),
        ({"seqlen": 8}, "unknown setting 'seqlen' (did you mean 'seq_len'?)"),
        (
            {"zzz": 1},
            "unknown setting 'zzz' (known: device, dtype, seq_len, stride, max_tokens, "
            "batch_size, prompts, max_new_tokens, bench_tokens, bench_runs, max_problems, "
            "cache_dir, cache)",
        ),
        ({"cache": "no"}, "cache='no': expects True or False (--no-cache)"),
        ({"cache_dir": 3}, "--cache-dir 3: expects a folder path"),
        ({"device": "bogus"}, f"--device bogus: not a device {DEVICES}"),
        ({"device": "cuda:"}, f"--device cuda:: not a device {DEVICES}"),
        ({"device": ""}, f"--device '': not a device {DEVICES}"),
        ({"device": 0}, f"--device 0: not a device {DEVICES}"),
        (
            {"dtype": "int8"},
            "--dtype int8: not a compute dtype (use auto, float32, bfloat16 or float16)",
        ),
        ({"seq_len": 1}, "--seq-len 1: must be an integer ≥ 2"),
        ({"max_tokens": 1}, "--max-tokens 1: must be an integer ≥ 2"),
        ({"stride": 0}, "--stride 0: must be an integer ≥ 1"),
        ({"batch_size": True}, "--batch-size True: must be an integer ≥ 1"),
        ({"bench_runs": "3"}, "--bench-runs '3': must be an integer ≥ 1"),
        ({"prompts": "def f"}, "--prompt: expects a list of strings, got 'def f'"),
        ({"prompts": ["a", 1]}, "--prompt: expects a list of strings, got ['a', 1]"),
    ],
)
def test_bad_settings_are_one_usage_line(values: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as err:
        RunSettings.build(values)
    assert str(err.value) == message


def test_settings_are_frozen_and_record_only_what_was_given() -> None:
    s = RunSettings.build({"device": "cpu", "seq_len": 64, "prompts": ["a"], "dtype": None})
    assert s.prompts == ("a",) and s.dtype is None and s.requested_device == "cpu"
    # the report's options: given scalars only (prompts never were recorded), sorted
    assert s.record() == {"device": "cpu", "seq_len": 64}
    assert RunSettings().record() == {} and RunSettings().requested_device == "auto"
    with pytest.raises(AttributeError):
        s.device = "cuda"  # type: ignore[misc]


def test_the_api_refuses_an_unknown_setting_before_reading_anything(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-spec.yaml"  # never opened: the settings fail first
    with pytest.raises(UsageError) as err:
        albor_gates.evaluate(missing, devcie="cpu")
    assert str(err.value) == "unknown setting 'devcie' (did you mean 'device'?)"
    with pytest.raises(UsageError) as err:
        albor_gates.evaluate(missing, options={"seq_len": 1})
    assert str(err.value) == "--seq-len 1: must be an integer ≥ 2"
    with pytest.raises(UsageError) as err:
        albor_gates.evaluate(missing, dtype="int8")
    assert str(err.value) == (
        "--dtype int8: not a compute dtype (use auto, float32, bfloat16 or float16)"
    )
    with pytest.raises(UsageError) as err:
        albor_gates.evaluate(missing, settings=RunSettings(device="cpu"), seq_len=8)
    assert str(err.value) == "pass settings=RunSettings(...) or setting keywords, not both"


def test_the_api_records_the_settings_it_was_given() -> None:
    spec = Path(__file__).resolve().parent.parent / "examples" / "quickstart" / "gates.yaml"
    by_keyword = albor_gates.evaluate(spec, device="cpu", seq_len=64)
    by_object = albor_gates.evaluate(spec, settings=RunSettings(device="cpu", seq_len=64))
    assert by_keyword.options == by_object.options == {"device": "cpu", "seq_len": 64}


def test_settings_import_neither_torch_nor_pydantic() -> None:
    import subprocess

    code = (
        "import sys, albor_gates.settings; print(sorted({'torch', 'pydantic'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
