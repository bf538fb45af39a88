"""Device choice, the compute-dtype policy and the environment record of the model checker.

The checker measures on a CUDA GPU when one is present (then Apple MPS), else on the CPU. An
explicit request is honoured or refused, never silently replaced: asking for ``cuda`` on a
machine without CUDA is a :class:`~albor_gates.errors.UsageError` (INV-GPUTRAIN-002, "no silent
CPU fallback when CUDA requested", GATES.md §4).

Compute-dtype policy (DESIGN.md "The model checker"):

========  ======================================  =============================================
device    weights / activations                    loss accumulation
========  ======================================  =============================================
cpu       float32 (bf16 matmul is ~100x slower)    per-row fp32 cross-entropy, summed in fp64
cuda      bfloat16 (float16 without bf16 support)  per-row fp32 cross-entropy, summed in fp64
mps       float32 (bf16 support varies by macOS)   per-row fp32 cross-entropy, summed in fp64
========  ======================================  =============================================

``torch`` is imported inside functions so importing this module stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from albor_gates.errors import UsageError
from albor_gates.settings import check_device

if TYPE_CHECKING:
    import torch

# Head-room kept free when deciding whether a model fits: activations, the KV cache, the
# loss chunk and the allocator's own overhead live there.
_DEVICE_HEADROOM = 0.10


@dataclass(frozen=True)
class DeviceEnvironment:
    """What the checker ran on; part of every measurement it reports.

    Attributes:
        device: the resolved torch device string, e.g. ``"cpu"`` or ``"cuda:0"``.
        device_type: ``"cpu"``, ``"cuda"`` or ``"mps"``.
        device_name: GPU name (``torch.cuda.get_device_name``), the CPU model, or ``"mps"``.
        torch_version: ``torch.__version__``.
        cuda_version: the CUDA runtime torch was built with, or None.
        cudnn_version: the cuDNN version, or None.
        compute_dtype: the dtype policy for this device, e.g. ``"float32"``.
        num_threads: torch intra-op threads (what CPU timings depend on).
    """

    device: str
    device_type: str
    device_name: str
    torch_version: str
    cuda_version: str | None
    cudnn_version: int | None
    compute_dtype: str
    num_threads: int


def _cuda_count() -> int:
    import torch

    try:
        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except RuntimeError:  # a broken driver reports "available" then fails to enumerate
        return 0


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


# device nodes of the accelerator drivers torch can use on Linux: NVIDIA, AMD ROCm, WSL2's GPU
_ACCELERATOR_NODES = ("nvidiactl", "nvidia0", "kfd", "dxg")


def cpu_for_certain(request: str = "auto") -> bool:
    """Whether ``request`` resolves to the CPU, when that is known without importing torch.

    True for ``cpu``, and for ``auto`` on Linux with no accelerator driver node in /dev (no
    CUDA, ROCm or WSL GPU can be present). A warm cached run decides a CPU-only skip this way
    instead of paying torch's import (engine/cache.py); False means "ask resolve_device".
    """
    if request == "cpu":
        return True
    import sys

    return (
        request == "auto"
        and sys.platform == "linux"
        and not any(os.path.exists(f"/dev/{n}") for n in _ACCELERATOR_NODES)
    )


def resolve_device(request: str = "auto") -> torch.device:
    """Turn ``--device`` into a torch device, refusing what this machine cannot provide.

    Args:
        request: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    Returns:
        ``cuda:0`` (or the requested ordinal), ``mps`` or ``cpu``; ``auto`` picks CUDA when
        available, then MPS, then the CPU.

    Raises:
        UsageError: the string is not a device name, or names a device that is absent
            (never a silent fallback, INV-GPUTRAIN-002).
    """
    import torch

    check_device(request)
    if request == "auto":
        if _cuda_count() > 0:
            return torch.device("cuda:0")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if request == "cpu":
        return torch.device("cpu")
    if request == "mps":
        if not _mps_available():
            raise UsageError(
                "--device mps was requested but torch reports no MPS backend on this machine "
                "(INV-GPUTRAIN-002: no silent fallback; use --device cpu or auto)"
            )
        return torch.device("mps")
    count = _cuda_count()
    index = int(request.split(":", 1)[1]) if ":" in request else 0
    if count == 0:
        raise UsageError(
            f"--device {request} was requested but torch {torch.__version__} sees no CUDA device "
            "(INV-GPUTRAIN-002: no silent CPU fallback; install a CUDA build of torch or use "
            "--device cpu)"
        )
    if index >= count:
        raise UsageError(
            f"--device {request} was requested but only {count} CUDA device(s) are visible "
            f"(cuda:0..cuda:{count - 1}); check CUDA_VISIBLE_DEVICES"
        )
    return torch.device(f"cuda:{index}")


def compute_dtype(device: torch.device) -> torch.dtype:
    """Return the dtype weights and activations use on ``device`` (the policy table above).

    Args:
        device: a resolved device.

    Returns:
        ``torch.float32`` on CPU and MPS; ``torch.bfloat16`` on CUDA, or ``torch.float16`` on
        GPUs without bf16 support.
    """
    import torch

    if device.type == "cuda":
        with torch.cuda.device(device):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def parse_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """Resolve a dtype option (``None``/``"auto"`` → the policy; else float32/bfloat16/float16).

    Args:
        name: ``None``, ``"auto"``, ``"float32"``/``"fp32"``, ``"bfloat16"``/``"bf16"`` or
            ``"float16"``/``"fp16"``.
        device: the device the dtype will be used on.

    Returns:
        The torch dtype.

    Raises:
        UsageError: an unknown name.
    """
    import torch

    if name is None or name == "auto":
        return compute_dtype(device)
    table = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
        "float16": torch.float16,
        "fp16": torch.float16,
    }
    if name not in table:
        raise UsageError(
            f"--dtype {name!r} is not supported: use auto, float32, bfloat16 or float16"
        )
    return table[name]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "cpu"


def environment(device: torch.device) -> DeviceEnvironment:
    """Describe the device a measurement ran on (device, GPU name, torch / CUDA / cuDNN).

    Args:
        device: a device returned by :func:`resolve_device`.

    Returns:
        A frozen :class:`DeviceEnvironment`.
    """
    import torch

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "mps"
    else:
        name = _cpu_name()
    cudnn: int | None = None
    if torch.backends.cudnn.is_available():
        cudnn = int(torch.backends.cudnn.version() or 0) or None
    return DeviceEnvironment(
        device=str(device),
        device_type=device.type,
        device_name=name,
        torch_version=str(torch.__version__),
        cuda_version=torch.version.cuda,
        cudnn_version=cudnn,
        compute_dtype=str(compute_dtype(device)).removeprefix("torch."),
        num_threads=int(torch.get_num_threads()),
    )


def available_bytes(device: torch.device) -> int:
    """Memory the checker may still allocate on ``device``.

    CUDA: free bytes from ``torch.cuda.mem_get_info``. CPU / MPS: ``MemAvailable`` from
    ``/proc/meminfo`` (Linux), else the physical memory size.

    Args:
        device: a resolved device.

    Returns:
        Bytes available.
    """
    import torch

    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 62


def fits_on_device(n_bytes: int, device: torch.device, *, what: str = "the model") -> None:
    """Refuse, before anything is loaded, a model that cannot fit on ``device``.

    The check keeps 10 % head-room for activations, the KV cache and the loss chunk.

    Args:
        n_bytes: bytes the weights need in the compute dtype (from the safetensors headers).
        device: the target device.
        what: how to name the thing in the message (e.g. the model path).

    Raises:
        UsageError: ``n_bytes`` exceeds the device's available memory minus head-room.
    """
    avail = available_bytes(device)
    budget = int(avail * (1.0 - _DEVICE_HEADROOM))
    if n_bytes > budget:
        raise UsageError(
            f"{what} needs {n_bytes / 2**30:.2f} GiB of weights on {device} but only "
            f"{avail / 2**30:.2f} GiB is available ({budget / 2**30:.2f} GiB after 10% head-room); "
            "choose a larger device, a smaller --dtype, or free memory"
        )


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels so wall-clock timings measure work, not launches.

    Args:
        device: the device timings are taken on (no-op on the CPU).
    """
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
