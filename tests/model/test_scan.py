"""The streaming tensor scan: exact agreement with a float64 torch reference, in every chunking."""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from albor_gates.artifacts.checkpoint import open_checkpoint
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.model.scan import ScanResult, TensorStats, lag1_autocorr, scan_checkpoint

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture(autouse=True, params=["compiled", "torch"])
def scan_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on the compiled one-pass kernel and on the torch path (its oracle)."""
    from albor_gates.model import scan as scan_module

    if request.param == "torch":
        monkeypatch.setattr(scan_module, "native_scan", lambda: None)
    elif scan_module.native_scan() is None:
        pytest.skip("no C compiler here: the compiled scan kernel is not built")
    return str(request.param)


def reference(t: torch.Tensor) -> dict[str, Any]:
    """Float64 statistics straight from torch, over the finite values."""
    x = t.reshape(-1).to(torch.float64)
    fin = torch.isfinite(x)
    xf = x[fin]
    out: dict[str, Any] = {
        "numel": x.numel(),
        "nan": int(torch.isnan(x).sum()),
        "pinf": int(torch.isposinf(x).sum()),
        "ninf": int(torch.isneginf(x).sum()),
        "zeros": int((x == 0).sum()),
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
        "l2": None,
        "r1": None,
    }
    if xf.numel():
        out.update(
            min=xf.min().item(),
            max=xf.max().item(),
            mean=xf.mean().item(),
            std=xf.std(unbiased=False).item(),
            l2=xf.norm().item(),
        )
    if t.dim() == 2 and t.shape[1] >= 2 and t.is_floating_point() and bool(fin.all()):
        w = t.to(torch.float64)
        y = w - w.mean()
        m2 = (y * y).sum().item()
        if m2 > 0:
            pairs = (y[:, :-1] * y[:, 1:]).sum().item()
            out["r1"] = (pairs / (w.shape[0] * (w.shape[1] - 1))) / (m2 / w.numel())
    return out


def assert_matches(s: TensorStats, t: torch.Tensor, rel: float = 1e-5) -> None:
    ref = reference(t)
    assert s.numel == ref["numel"]
    assert (s.nan_count, s.posinf_count, s.neginf_count) == (ref["nan"], ref["pinf"], ref["ninf"])
    assert s.zero_count == ref["zeros"], s.name
    for got, want in [(s.min, ref["min"]), (s.max, ref["max"])]:
        assert got == want, s.name  # min and max are exact
    if ref["mean"] is None:
        assert s.mean is s.std is s.l2_norm is None
    else:
        spread = ref["std"] + 1e-30
        assert s.mean is not None and abs(s.mean - ref["mean"]) <= rel * spread + 1e-12, s.name
        assert s.std is not None and abs(s.std - ref["std"]) <= rel * spread + 1e-12, s.name
        assert s.l2_norm is not None and abs(s.l2_norm - ref["l2"]) <= rel * ref["l2"] + 1e-12
        assert s.abs_max == max(abs(ref["min"]), abs(ref["max"]))
    if ref["r1"] is None:
        assert s.lag1_autocorr is None, s.name
    else:
        assert s.lag1_autocorr is not None and abs(s.lag1_autocorr - ref["r1"]) < 1e-4, s.name


def save(path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))
    return path


def scan(path: Path, **kw: Any) -> ScanResult:
    return scan_checkpoint(open_checkpoint(path), **kw)


def mixed_tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "w_f32": torch.randn(13, 5, generator=g) * 0.02,
        "w_bf16": (torch.randn(3, 50, generator=g) * 0.02).to(torch.bfloat16),
        "w_f16": (torch.randn(40, 1, generator=g)).to(torch.float16),
        "row": torch.randn(1, 40, generator=g, dtype=torch.float64),
        "vec": torch.randn(37, generator=g),
        "norm": (1.0 + 1e-3 * torch.randn(64, generator=g)).to(torch.bfloat16),
        "cube": torch.randn(2, 3, 4, generator=g),
        "scalar": torch.tensor(3.5),
        "f8": (torch.randn(6, 6, generator=g)).to(torch.float8_e4m3fn),
        "ids": torch.arange(-20, 20, dtype=torch.int64).reshape(2, 20),
        "i32": torch.tensor([2**31 - 1, -(2**31), 0], dtype=torch.int32),
        "u8": torch.arange(0, 256, dtype=torch.uint8),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "mask": torch.tensor([True, False, False, True]),
        "zeros": torch.zeros(4, 4),
        "signed_zeros": torch.tensor([-0.0, 0.0, 1.0, -2.0]),
        "halfs": torch.full((3, 3), 0.5, dtype=torch.bfloat16),
    }


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_stats_match_reference_in_every_chunking(tmp_path: Path, chunk: int) -> None:
    tensors = mixed_tensors()
    res = scan(save(tmp_path / "m.safetensors", tensors), chunk_elems=chunk)
    assert {s.name for s in res.tensors} == set(tensors)
    for s in res.tensors:
        assert_matches(s, tensors[s.name])
    assert res.device == "cpu" and res.nan_count == 0 and res.inf_count == 0


def test_flags_and_density(tmp_path: Path) -> None:
    res = scan(save(tmp_path / "m.safetensors", mixed_tensors()))
    z, h, sz = res.by_name["zeros"], res.by_name["halfs"], res.by_name["signed_zeros"]
    assert z.is_all_zero and z.is_constant and z.density == 0.0 and z.std == 0.0
    assert z.l2_norm == 0.0 and z.abs_max == 0.0
    assert h.is_constant and not h.is_all_zero and h.std == 0.0 and h.density == 1.0
    assert sz.zero_count == 2 and sz.density == 0.5 and not sz.is_constant
    assert res.by_name["mask"].zero_count == 2 and res.by_name["mask"].max == 1.0
    assert res.by_name["u8"].min == 0.0 and res.by_name["u8"].max == 255.0
    assert res.by_name["i32"].min == -(2.0**31) and res.by_name["i32"].max == 2.0**31 - 1


def test_planted_nan_is_found_exactly(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(2)
    tensors = {
        f"model.layers.{i}.mlp.up_proj.weight": torch.randn(24, 16, generator=g) for i in range(5)
    }
    bad = "model.layers.3.mlp.up_proj.weight"
    tensors[bad].view(-1)[123] = float("nan")
    for chunk in (16, 50, 1 << 20):
        res = scan(save(tmp_path / "m.safetensors", tensors), chunk_elems=chunk)
        assert res.nonfinite_tensors == (bad,)
        assert res.nan_count == 1 and res.inf_count == 0
        s = res.by_name[bad]
        assert s.nan_count == 1 and s.finite_count == 24 * 16 - 1
        assert s.lag1_autocorr is None  # undefined with a non-finite value
        assert_matches(s, tensors[bad])  # stats over the finite values, not poisoned
        for name, t in tensors.items():
            if name != bad:
                assert_matches(res.by_name[name], t)


def test_infinities_and_nans_after_a_shifted_first_chunk(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(3)
    x = 5.0 + 1e-3 * torch.randn(200, generator=g)  # mean far from 0: the scan shifts
    x[150] = float("inf")
    x[151] = -float("inf")
    x[170] = float("nan")
    res = scan(save(tmp_path / "m.safetensors", {"x": x}), chunk_elems=32)
    s = res.by_name["x"]
    assert (s.nan_count, s.posinf_count, s.neginf_count) == (1, 1, 1)
    assert_matches(s, x, rel=1e-4)


def test_tensor_of_only_nan(tmp_path: Path) -> None:
    res = scan(save(tmp_path / "m.safetensors", {"x": torch.full((3, 3), float("nan"))}))
    s = res.by_name["x"]
    assert s.nan_count == 9 and s.finite_count == 0 and s.zero_count == 0
    assert s.min is s.max is s.mean is s.std is s.l2_norm is None
    assert not s.is_constant and not s.is_all_zero and s.density == 1.0


def test_variance_is_not_lost_to_cancellation(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(4)
    x = 1000.0 + 1e-3 * torch.randn(1 << 16, generator=g, dtype=torch.float64)
    res = scan(save(tmp_path / "m.safetensors", {"x": x.float()}), chunk_elems=4096)
    ref = x.float().double()
    s = res.by_name["x"]
    assert s.std is not None
    assert abs(s.std - ref.std(unbiased=False).item()) < 1e-3 * ref.std().item()


def test_c_init_001_lag1_autocorrelation(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(5)
    rows, cols = 64, 96
    flat = torch.arange(rows * cols, dtype=torch.float64)
    tensors = {
        "sinusoidal": torch.sin(0.05 * flat).reshape(rows, cols).float(),
        "per_row_sin": torch.sin(
            torch.outer(torch.arange(1, rows + 1.0), torch.linspace(0, 3, cols))
        ).float(),
        "placeholder_arange": (flat.reshape(rows, cols) / (rows * cols)).float(),
        "random": torch.randn(rows, cols, generator=g) * 0.02,
    }
    for chunk in (50, 1 << 20):
        res = scan(save(tmp_path / "m.safetensors", tensors), chunk_elems=chunk)
        r = {s.name: s.lag1_autocorr for s in res.tensors}
        assert r["sinusoidal"] is not None and r["sinusoidal"] > 0.99
        assert r["per_row_sin"] is not None and r["per_row_sin"] > 0.1
        assert r["placeholder_arange"] is not None and r["placeholder_arange"] > 0.99
        assert r["random"] is not None and abs(r["random"]) < 4 / math.sqrt(rows * (cols - 1))
        for s in res.tensors:
            assert_matches(s, tensors[s.name], rel=1e-4)


def test_lag1_autocorr_formula_edge_cases() -> None:
    assert lag1_autocorr(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 2) is None  # empty
    assert lag1_autocorr(4.0, 8.0, 0.0, 2.0, 2.0, 4, 4, 1) is None  # one column: no pairs
    assert lag1_autocorr(4.0, 4.0, 2.0, 2.0, 2.0, 4, 2, 2) is None  # constant: no variance
    # rows [1, -1], [1, -1]: every pair is anti-correlated.
    assert lag1_autocorr(0.0, 4.0, -2.0, 2.0, -2.0, 4, 2, 2) == -1.0


def test_unaligned_offsets_and_unscannable_dtypes(tmp_path: Path) -> None:
    w = torch.tensor([1.5, -2.0, 0.0, 4.0])
    header = {
        "b": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]},
        "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [3, 19]},
        "q": {"dtype": "F4", "shape": [4], "data_offsets": [19, 21]},
        "c": {"dtype": "C64", "shape": [1], "data_offsets": [21, 29]},
        "e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [29, 29]},
    }
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)  # data section 8-aligned: 'w' then starts 3 bytes off
    data = b"\x01\x02\x03" + w.numpy().tobytes() + b"\x11\x22" + bytes(8)
    path = tmp_path / "odd.safetensors"
    path.write_bytes(struct.pack("<Q", len(hb)) + hb + data)
    res = scan(path)
    assert_matches(res.by_name["w"], w.reshape(2, 2))
    q, c, e = res.by_name["q"], res.by_name["c"], res.by_name["e"]
    assert q.skipped == "dtype F4 has no element-wise torch conversion; not scanned"
    assert c.skipped == "dtype C64 has no element-wise torch conversion; not scanned"
    assert q.density is None and not q.is_all_zero and q.min is None
    assert e.skipped is None and e.numel == 0 and e.density is None and e.mean is None
    assert res.bytes_scanned == 29


def test_progress_reports_every_byte(tmp_path: Path) -> None:
    path = save(tmp_path / "m.safetensors", mixed_tensors())
    ck = open_checkpoint(path)
    seen: list[tuple[int, int]] = []
    scan_checkpoint(ck, progress=lambda d, t: seen.append((d, t)), chunk_elems=16)
    assert len(seen) > len(ck.tensors)
    assert all(t == ck.nbytes for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (ck.nbytes, ck.nbytes)


def test_sharded_checkpoint(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(6)
    a = {"model.embed_tokens.weight": torch.randn(8, 4, generator=g)}
    b = {"lm_head.weight": torch.randn(8, 4, generator=g), "model.norm.weight": torch.ones(4)}
    save(tmp_path / "model-00001-of-00002.safetensors", a)
    save(tmp_path / "model-00002-of-00002.safetensors", b)
    wmap = {k: "model-00001-of-00002.safetensors" for k in a}
    wmap.update({k: "model-00002-of-00002.safetensors" for k in b})
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wmap}))
    res = scan_checkpoint(open_checkpoint(tmp_path))
    assert res.path == tmp_path / "model.safetensors.index.json"
    assert [s.name for s in res.tensors][0] == "model.embed_tokens.weight"
    for s in res.tensors:
        assert s.file == tmp_path / wmap[s.name]
        assert_matches(s, {**a, **b}[s.name])


def test_result_is_frozen_and_threads_are_restored(tmp_path: Path) -> None:
    before = torch.get_num_threads()
    res = scan(save(tmp_path / "m.safetensors", {"x": torch.ones(3)}))
    assert torch.get_num_threads() == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.device = "cuda"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.tensors[0].nan_count = 3  # type: ignore[misc]
    assert res.throughput_gbps > 0


def test_file_shrunk_after_the_header_was_read(tmp_path: Path) -> None:
    path = save(tmp_path / "m.safetensors", {"x": torch.ones(64)})
    ck = open_checkpoint(path)
    with path.open("r+b") as f:
        f.truncate(ck.file_size - 10)
    with pytest.raises(ArtifactError) as exc:
        scan_checkpoint(ck)
    assert str(exc.value) == (
        f"{path}: file shrank to {ck.file_size - 10} bytes since its header was read, but tensor "
        f"data runs to absolute offset {ck.file_size}: re-run on a file that is not being written"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"device": "tpu"}, "--device tpu: not a device (use auto, cpu, cuda, cuda:N or mps)"),
        ({"device": "meta"}, "--device meta: not a device (use auto, cpu, cuda, cuda:N or mps)"),
        ({"chunk_elems": 0}, "chunk_elems must be at least 1, got 0"),
        ({"cpu_threads": 0}, "cpu_threads must be at least 1, got 0"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    path = save(tmp_path / "m.safetensors", {"x": torch.ones(3)})
    with pytest.raises(UsageError) as exc:
        scan(path, **kwargs)
    assert str(exc.value) == message


@pytest.mark.skipif(HAS_CUDA, reason="checks the refusal on a machine without CUDA")
def test_cuda_requested_without_cuda_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    path = save(tmp_path / "m.safetensors", {"x": torch.ones(3)})
    with pytest.raises(UsageError) as exc:
        scan(path, device="cuda")
    assert str(exc.value) == (
        f"--device cuda was requested but torch {torch.__version__} sees no CUDA device "
        "(INV-GPUTRAIN-002: no silent CPU fallback; install a CUDA build of torch or use "
        "--device cpu)"
    )
    assert scan(path, device="auto").device == "cpu"


def test_the_scan_refuses_mps_and_scans_auto_on_the_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from albor_gates.model import device

    # a Mac without CUDA: auto resolves to MPS, which has no float64 for the scan's sums
    monkeypatch.setattr(device, "_cuda_count", lambda: 0)
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    path = save(tmp_path / "m.safetensors", {"x": torch.ones(3)})
    with pytest.raises(UsageError) as exc:
        scan(path, device="mps")
    assert str(exc.value) == (
        "--device mps: the tensor scan accumulates in float64, which MPS lacks "
        "(use --device cpu or auto)"
    )
    assert scan(path, device="auto").device == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
def test_cuda_scan_matches_cpu(tmp_path: Path) -> None:
    tensors = mixed_tensors()
    tensors["with_nan"] = torch.randn(33, 7)
    tensors["with_nan"][5, 3] = float("nan")
    path = save(tmp_path / "m.safetensors", tensors)
    for chunk in (7, None):
        res = scan(path, device="cuda", chunk_elems=chunk)
        assert res.device.startswith("cuda")
        assert res.nonfinite_tensors == ("with_nan",)
        for s in res.tensors:
            assert_matches(s, tensors[s.name], rel=1e-4)


def test_compiled_kernel_agrees_with_the_torch_path(
    tmp_path: Path, scan_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from albor_gates.model import scan as scan_module

    if scan_path == "torch":
        pytest.skip("compares the two paths once")
    g = torch.Generator().manual_seed(7)
    tensors = {
        "w_bf16": (torch.randn(67, 129, generator=g) * 0.02).to(torch.bfloat16),
        "w_f16": (torch.randn(33, 250, generator=g)).to(torch.float16),
        "w_f32": torch.randn(40, 3, generator=g),
        "norm": 1.0 + torch.randn(4099, generator=g) * 1e-3,  # shifted by its mean
        "sparse": torch.randn(50, 97, generator=g) * (torch.rand(50, 97, generator=g) < 0.1),
        "bad": torch.tensor([[1.0, float("nan"), 0.0], [float("inf"), -float("inf"), -2.0]]),
    }
    path = save(tmp_path / "m.safetensors", tensors)
    for chunk in (5, 128, 1 << 20):
        compiled = scan(path, chunk_elems=chunk)
        with monkeypatch.context() as m:
            m.setattr(scan_module, "native_scan", lambda: None)
            oracle = scan(path, chunk_elems=chunk)
        for a, b in zip(compiled.tensors, oracle.tensors, strict=True):
            exact = ("nan_count", "posinf_count", "neginf_count", "zero_count", "min", "max")
            for field in exact:
                assert getattr(a, field) == getattr(b, field), (a.name, field)
            for field in ("mean", "std", "l2_norm", "lag1_autocorr"):
                x, y = getattr(a, field), getattr(b, field)
                assert (x is None) == (y is None), (a.name, field)
                if x is not None:
                    assert x == pytest.approx(y, rel=1e-5, abs=1e-9), (a.name, field, chunk)


def test_huge_finite_values_take_the_exact_path_with_every_statistic(
    tmp_path: Path, scan_path: str
) -> None:
    # 3e19² overflows float32: the kernel's block sums go non-finite although every value is
    # finite, and the block is redone in fp64 (lag-1 products included).
    if scan_path == "torch":
        pytest.skip("the torch path's fp32 sum of squares overflows to inf here (its known limit)")
    g = torch.Generator().manual_seed(3)
    t = torch.randn(64, 300, generator=g)
    t[5, 7] = 3e19
    path = save(tmp_path / "m.safetensors", {"w": t})
    s = scan(path, chunk_elems=1000).tensors[0]
    assert s.nan_count == s.posinf_count == s.neginf_count == 0
    assert_matches(s, t)
    assert s.lag1_autocorr is not None


def test_chunks_split_across_two_threads_match_the_reference(tmp_path: Path) -> None:
    from albor_gates.model import scan as scan_module

    g = torch.Generator().manual_seed(9)
    t = torch.randn(700, 1001, generator=g).to(torch.bfloat16)  # splits fall inside rows
    n = torch.randn(5, 70001, generator=g)
    n[3, 9] = float("nan")  # a NaN in a split half
    path = save(tmp_path / "m.safetensors", {"t": t, "n": n})
    chunk = 3 * scan_module._NATIVE_SPLIT_MIN
    got = scan(path, chunk_elems=chunk)
    assert_matches(got.tensors[1], t.float())
    assert_matches(got.tensors[0], n)
