"""Device resolution never falls back silently; the environment record; the fit pre-check."""

from __future__ import annotations

import pytest

from albor_gates.errors import UsageError
from albor_gates.model import device as dev

torch = pytest.importorskip("torch")
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def test_auto_and_cpu() -> None:
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and dev._mps_available():
        expected = "mps"
    assert str(dev.resolve_device("auto")) == expected
    assert str(dev.resolve_device("cpu")) == "cpu"
    assert dev.compute_dtype(torch.device("cpu")) == torch.float32


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("gpu", "gpu"),
        ("cuda:", "cuda:"),
        ("cuda:x", "cuda:x"),
        ("CPU", "CPU"),
        ("", "''"),  # shell-quoted, so an empty or padded value is visible
        ("cuda:0 ", "'cuda:0 '"),
    ],
)
def test_malformed_device(bad: str, shown: str) -> None:
    with pytest.raises(UsageError) as err:
        dev.resolve_device(bad)
    assert str(err.value) == f"--device {shown}: not a device (use auto, cpu, cuda, cuda:N or mps)"


@no_cuda
@pytest.mark.parametrize("request_", ["cuda", "cuda:0", "cuda:3"])
def test_missing_cuda_is_an_error_not_a_fallback(request_: str) -> None:
    with pytest.raises(UsageError) as err:
        dev.resolve_device(request_)
    assert str(err.value) == (
        f"--device {request_} was requested but torch {torch.__version__} sees no CUDA device "
        "(INV-GPUTRAIN-002: no silent CPU fallback; install a CUDA build of torch or use "
        "--device cpu)"
    )


def test_missing_cuda_ordinal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev, "_cuda_count", lambda: 2)
    with pytest.raises(UsageError) as err:
        dev.resolve_device("cuda:2")
    assert str(err.value) == (
        "--device cuda:2 was requested but only 2 CUDA device(s) are visible (cuda:0..cuda:1); "
        "check CUDA_VISIBLE_DEVICES"
    )


def test_missing_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    with pytest.raises(UsageError, match="--device mps was requested but torch reports no MPS"):
        dev.resolve_device("mps")


def test_environment_record() -> None:
    env = dev.environment(torch.device("cpu"))
    assert env.device == "cpu" and env.device_type == "cpu"
    assert env.torch_version == torch.__version__
    assert env.compute_dtype == "float32" and env.num_threads >= 1
    assert env.device_name


def test_fits_on_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev, "available_bytes", lambda _d: 10 * 2**30)
    dev.fits_on_device(9 * 2**30, torch.device("cpu"))
    with pytest.raises(UsageError) as err:
        dev.fits_on_device(int(9.5 * 2**30), torch.device("cpu"), what="albor-370m")
    assert str(err.value) == (
        "albor-370m needs 9.50 GiB of weights on cpu but only 10.00 GiB is available "
        "(9.00 GiB after 10% head-room); choose a larger device, a smaller --dtype, or free memory"
    )


def test_parse_dtype() -> None:
    cpu = torch.device("cpu")
    assert dev.parse_dtype(None, cpu) == torch.float32
    assert dev.parse_dtype("bf16", cpu) == torch.bfloat16
    with pytest.raises(UsageError, match="--dtype 'int8' is not supported"):
        dev.parse_dtype("int8", cpu)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_policy_is_half_precision() -> None:
    d = dev.resolve_device("cuda")
    assert dev.compute_dtype(d) in (torch.bfloat16, torch.float16)
    env = dev.environment(d)
    assert env.cuda_version and env.device_name
