"""Token inputs for validation loss: ``.npy``, raw ``.bin``, text and JSONL, then windows.

Sources (:func:`load_tokens`):

* ``.npy`` — a 1-D integer array (``np.load(..., mmap_mode="r", allow_pickle=False)``).
* ``.bin`` — raw little-endian ``uint16`` or ``uint32`` ids, nanoGPT style. The dtype is the
  ``dtype`` argument, else the ``"dtype"`` key of a sidecar ``<file>.json`` (``val.bin`` →
  ``val.bin.json``); with neither, a :class:`~albor_gates.errors.UsageError` asks for one
  (guessing uint16 vs uint32 silently misreads a file). Read through ``np.memmap``.
* text (``.txt``, ``.py``, ``.md``, anything else) — UTF-8, tokenized with a ``tokenizer.json``
  through the ``tokenizers`` library as one document, in blocks of about 1 MiB split after a
  newline (a BPE merge never spans the block boundary; for files under 1 MiB this is exactly
  whole-file tokenization).
* ``.jsonl`` — one JSON object per line; each object's ``text_field`` (default ``"text"``) is one
  document. ``separator_id`` (e.g. the EOS id), when given, is appended after every document.

Text sources also record each token's UTF-8 byte count (from the tokenizer's offsets), so bits
per byte are exact: the bytes of the scored tokens, not an average.

``max_tokens`` keeps the first N tokens of the stream (deterministic; text sources stop
tokenizing once N is reached).

Windows (:func:`make_windows`), for ``seq_len`` L and ``stride`` S (default S = L):

* without BOS (default): window *i* reads stream tokens ``[i·S, i·S + L + 1)``; the model sees
  the first L as input and is scored on the next-token targets, the last L. The window's first
  token is context only. With S = L consecutive windows share one boundary token, so every
  token from stream index 1 to the last full window is scored exactly once; the stream's first
  token is never a target. With S < L (overlapping, "sliding" perplexity) window *i* > 0 scores
  only its last S targets, so each token is still scored at most once and has ≥ L − S tokens of
  context.
* with ``bos_id``: window *i* reads ``[i·S, i·S + L)`` and the model input is
  ``[BOS] + tokens[:L-1]``; all L tokens are targets (BOS is context only and never a target).
  With S = L every token of the stream is scored exactly once, the first one included.

A trailing remainder shorter than one window is not evaluated (``TokenWindows.dropped_tokens``).
``seq_len`` beyond the model's ``max_position_embeddings`` is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albor_gates.artifacts.tokenizer import read_tokenizer
from albor_gates.errors import ArtifactError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import torch

IGNORE_INDEX = -100  # torch cross_entropy's default ignore_index: an unscored target
_TEXT_BLOCK_BYTES = 1 << 20
_VALIDATE_CHUNK = 1 << 22
_BIN_DTYPES = ("uint16", "uint32")
_SIDECAR_MAX_BYTES = 1 << 16


@dataclass(frozen=True, eq=False)
class TokenSource:
    """A 1-D token stream and where it came from.

    Attributes:
        path: the file as given.
        kind: ``"npy"``, ``"bin"``, ``"text"`` or ``"jsonl"``.
        ids: 1-D integer array (a read-only memmap for npy/bin), already cut to ``max_tokens``.
        total_tokens: tokens in the source before the ``max_tokens`` cut (for text sources,
            the tokens produced before tokenizing stopped).
        byte_counts: per-token UTF-8 byte counts (text sources), else None.
        documents: documents read (text sources; 1 for a text file), else 0.
    """

    path: str
    kind: str
    ids: np.ndarray
    total_tokens: int
    byte_counts: np.ndarray | None = None
    documents: int = 0

    @property
    def n_tokens(self) -> int:
        """Tokens available for windowing."""
        return int(self.ids.shape[0])


def load_tokenizer(path: str | os.PathLike[str]) -> Any:
    """The ``tokenizers.Tokenizer`` of a ``tokenizer.json`` (or of a folder holding one).

    The file is read by the one tokenizer reader,
    :func:`albor_gates.artifacts.tokenizer.read_tokenizer` (size cap, strict JSON, then
    ``tokenizers``); this only picks the file inside a folder.

    Raises:
        ArtifactError: the file is missing, too large or not a tokenizer.
    """
    p = Path(path)
    return read_tokenizer(p / "tokenizer.json" if p.is_dir() else p).tokenizer


def _cut(ids: np.ndarray, max_tokens: int | None) -> np.ndarray:
    if max_tokens is None:
        return ids
    if max_tokens <= 0:
        raise UsageError(f"--max-tokens must be positive, got {max_tokens}")
    return ids[:max_tokens]


def _load_npy(p: Path, max_tokens: int | None) -> TokenSource:
    import zipfile

    import numpy as np

    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ArtifactError(f"{p}: not a readable .npy array: {e}") from e
    if not isinstance(arr, np.ndarray):
        raise ArtifactError(f"{p}: .npy holds {type(arr).__name__}, expected one array")
    if arr.ndim != 1:
        raise ArtifactError(f"{p}: token array has shape {list(arr.shape)}, expected 1-D")
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 8:
        raise ArtifactError(f"{p}: token array has dtype {arr.dtype}, expected an integer dtype")
    return TokenSource(str(p), "npy", _cut(arr, max_tokens), int(arr.shape[0]))


def _bin_dtype(p: Path, dtype: str | None) -> str:
    if dtype is not None:
        if dtype not in _BIN_DTYPES:
            raise UsageError(f"token dtype {dtype!r} is not supported: use uint16 or uint32")
        return dtype
    sidecar = p.with_name(p.name + ".json")
    if not sidecar.is_file():
        raise UsageError(
            f"{p}: raw .bin tokens need a dtype: pass uint16 or uint32, or write {sidecar.name} "
            'with {"dtype": "uint16"}'
        )
    try:
        if sidecar.stat().st_size > _SIDECAR_MAX_BYTES:
            raise ArtifactError(f"{sidecar}: sidecar is larger than {_SIDECAR_MAX_BYTES} bytes")
        meta = json.loads(sidecar.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactError(f"{sidecar}: not a readable JSON sidecar: {e}") from e
    value = meta.get("dtype") if isinstance(meta, dict) else None
    if value not in _BIN_DTYPES:
        raise ArtifactError(f"{sidecar}: field 'dtype' is {value!r}, expected 'uint16' or 'uint32'")
    return str(value)


def _load_bin(p: Path, dtype: str | None, max_tokens: int | None) -> TokenSource:
    import numpy as np

    dt = _bin_dtype(p, dtype)
    itemsize = np.dtype(dt).itemsize
    size = p.stat().st_size
    if size % itemsize:
        raise ArtifactError(
            f"{p}: {size} bytes is not a whole number of {dt} tokens ({size % itemsize} trailing "
            "bytes); wrong dtype?"
        )
    if size == 0:
        return TokenSource(str(p), "bin", np.zeros(0, dtype=dt), 0)
    arr = np.memmap(p, dtype=np.dtype(dt).newbyteorder("<"), mode="r")
    return TokenSource(str(p), "bin", _cut(arr, max_tokens), int(arr.shape[0]))


def _utf8_lengths(text: str) -> np.ndarray:
    import numpy as np

    cps = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")
    return (
        1
        + (cps >= 0x80).astype(np.int64)
        + (cps >= 0x800).astype(np.int64)
        + (cps >= 0x10000).astype(np.int64)
    )


def _encode_document(
    tokenizer: Any, text: str, add_special_tokens: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and per-token byte counts (summing to the document's UTF-8 length)."""
    import numpy as np

    enc = tokenizer.encode(text, add_special_tokens=add_special_tokens)
    ids = np.asarray(enc.ids, dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(_utf8_lengths(text))))
    if ids.size == 0:
        return ids, np.zeros(0, dtype=np.int64)
    ends_char = np.asarray([o[1] for o in enc.offsets], dtype=np.int64)
    ends_char = np.clip(ends_char, 0, len(text))
    # Byte-level BPE can give several tokens one character's offsets, and special tokens get
    # (0, 0): a running maximum makes the end positions monotone, so each byte is counted once.
    ends = np.maximum.accumulate(cum[ends_char])
    counts = np.diff(np.concatenate(([0], ends)))
    counts[-1] += int(cum[-1]) - int(ends[-1])  # trailing bytes no offset covered
    return ids, counts


def _read_text_blocks(p: Path) -> Any:
    """Yield the file's text in ~1 MiB blocks that end after a newline."""
    offset = 0
    pending = b""
    with p.open("rb") as fh:
        while True:
            chunk = fh.read(_TEXT_BLOCK_BYTES)
            data = pending + chunk
            if not chunk:
                if data:
                    yield offset, data
                return
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            yield offset, data[: cut + 1]
            offset += cut + 1
            pending = data[cut + 1 :]


def _decode(p: Path, data: bytes, offset: int, where: str = "") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArtifactError(
            f"{p}{where}: not UTF-8 text at byte offset {offset + e.start}: {e.reason}"
        ) from e


def _collect(
    p: Path,
    kind: str,
    parts: list[tuple[np.ndarray, np.ndarray]],
    produced: int,
    max_tokens: int | None,
    documents: int,
) -> TokenSource:
    import numpy as np

    ids = np.concatenate([a for a, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
    counts = np.concatenate([b for _, b in parts]) if parts else np.zeros(0, dtype=np.int64)
    ids = _cut(ids, max_tokens)
    counts = _cut(counts, max_tokens)
    return TokenSource(str(p), kind, ids, produced, counts, documents)


def _load_text(p: Path, tokenizer: Any, max_tokens: int | None, add_special: bool) -> TokenSource:
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    produced = 0
    for offset, block in _read_text_blocks(p):
        ids, counts = _encode_document(tokenizer, _decode(p, block, offset), add_special)
        parts.append((ids, counts))
        produced += int(ids.size)
        if max_tokens is not None and produced >= max_tokens:
            break
    return _collect(p, "text", parts, produced, max_tokens, 1 if parts else 0)


def _load_jsonl(
    p: Path,
    tokenizer: Any,
    text_field: str,
    separator_id: int | None,
    max_tokens: int | None,
    add_special: bool,
) -> TokenSource:
    import numpy as np

    parts: list[tuple[np.ndarray, np.ndarray]] = []
    produced = 0
    documents = 0
    offset = 0
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line_offset = offset
            offset += len(raw)
            text_line = _decode(p, raw, line_offset, f":{lineno}")
            if not text_line.strip():
                continue
            try:
                obj = json.loads(text_line)
            except json.JSONDecodeError as e:
                raise ArtifactError(
                    f"{p}:{lineno}: not valid JSON: {e.msg} (column {e.colno})"
                ) from e
            if not isinstance(obj, dict):
                raise ArtifactError(
                    f"{p}:{lineno}: expected a JSON object, got {type(obj).__name__}"
                )
            if text_field not in obj:
                raise ArtifactError(f"{p}:{lineno}: field '{text_field}' is missing")
            doc = obj[text_field]
            if not isinstance(doc, str):
                raise ArtifactError(
                    f"{p}:{lineno}: field '{text_field}' is {type(doc).__name__}, expected a string"
                )
            ids, counts = _encode_document(tokenizer, doc, add_special)
            if separator_id is not None:
                ids = np.append(ids, np.int64(separator_id))
                counts = np.append(counts, np.int64(0))
            parts.append((ids, counts))
            documents += 1
            produced += int(ids.size)
            if max_tokens is not None and produced >= max_tokens:
                break
    return _collect(p, "jsonl", parts, produced, max_tokens, documents)


def load_tokens(
    path: str | os.PathLike[str],
    *,
    tokenizer: Any = None,
    dtype: str | None = None,
    text_field: str = "text",
    separator_id: int | None = None,
    add_special_tokens: bool = False,
    max_tokens: int | None = None,
) -> TokenSource:
    """Read a token stream from ``.npy``, ``.bin``, a text file or JSONL.

    Args:
        path: the file.
        tokenizer: a ``tokenizers.Tokenizer`` or a path to ``tokenizer.json`` (text / JSONL).
        dtype: ``uint16`` / ``uint32`` for ``.bin`` (else the sidecar's).
        text_field: the JSONL field holding each document.
        separator_id: id appended after each JSONL document (e.g. EOS), or None.
        add_special_tokens: let the tokenizer's post-processor add its special tokens.
        max_tokens: keep only the first N tokens.

    Returns:
        The :class:`TokenSource`.

    Raises:
        UsageError: missing file, no tokenizer for text, no dtype for ``.bin``.
        ArtifactError: unreadable or malformed content (file, line / byte offset named).
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such token file")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return _load_npy(p, max_tokens)
    if suffix == ".bin":
        return _load_bin(p, dtype, max_tokens)
    if tokenizer is None:
        raise UsageError(f"{p}: text and JSONL token sources need a tokenizer.json")
    tok = load_tokenizer(tokenizer) if isinstance(tokenizer, (str, os.PathLike)) else tokenizer
    if max_tokens is not None and max_tokens <= 0:
        raise UsageError(f"--max-tokens must be positive, got {max_tokens}")
    if suffix == ".jsonl":
        return _load_jsonl(p, tok, text_field, separator_id, max_tokens, add_special_tokens)
    return _load_text(p, tok, max_tokens, add_special_tokens)


def validate_tokens(source: TokenSource, vocab_size: int) -> None:
    """Check every id lies in ``[0, vocab_size)``, scanning in bounded chunks.

    Args:
        source: the token stream.
        vocab_size: the model's vocabulary size.

    Raises:
        ArtifactError: the stream is empty, or an id is out of range (file, index and id named).
    """
    import numpy as np

    n = source.n_tokens
    if n == 0:
        raise ArtifactError(f"{source.path}: the token set is empty (nothing to evaluate)")
    for start in range(0, n, _VALIDATE_CHUNK):
        chunk = np.asarray(source.ids[start : start + _VALIDATE_CHUNK])
        lo, hi = int(chunk.min()), int(chunk.max())
        if lo < 0 or hi >= vocab_size:
            bad = int(np.flatnonzero((chunk < 0) | (chunk >= vocab_size))[0])
            raise ArtifactError(
                f"{source.path}: token at index {start + bad} has id {int(chunk[bad])}, outside "
                f"the model vocabulary [0, {vocab_size}) (tokenizer and model do not match?)"
            )


@dataclass(frozen=True, eq=False)
class TokenWindows:
    """Fixed-length evaluation windows over a :class:`TokenSource` (see the module doc).

    Attributes:
        source: the token stream.
        seq_len: positions the model sees per window.
        stride: tokens between window starts.
        bos_id: prepended BOS id, or None.
        count: number of windows.
        scored_tokens: targets scored over all windows.
        dropped_tokens: trailing tokens no window reaches.
    """

    source: TokenSource
    seq_len: int
    stride: int
    bos_id: int | None
    count: int
    scored_tokens: int
    dropped_tokens: int

    def __len__(self) -> int:
        return self.count

    def _first_scored(self, i: int) -> int:
        # Window i > 0 skips the targets the previous window already scored.
        return 0 if i == 0 else self.seq_len - self.stride

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Build inputs and targets for the given windows.

        Args:
            indices: window numbers in ``[0, count)``.

        Returns:
            (inputs ``[B, seq_len]`` int64, targets ``[B, seq_len]`` int64 with
            :data:`IGNORE_INDEX` on unscored positions).
        """
        import numpy as np
        import torch

        b, length = len(indices), self.seq_len
        inputs = np.empty((b, length), dtype=np.int64)
        targets = np.empty((b, length), dtype=np.int64)
        ids = self.source.ids
        for row, i in enumerate(indices):
            if not 0 <= i < self.count:
                raise UsageError(f"window {i} is outside [0, {self.count})")
            s = i * self.stride
            if self.bos_id is None:
                w = np.asarray(ids[s : s + length + 1], dtype=np.int64)
                inputs[row] = w[:-1]
                targets[row] = w[1:]
            else:
                w = np.asarray(ids[s : s + length], dtype=np.int64)
                inputs[row, 0] = self.bos_id
                inputs[row, 1:] = w[:-1]
                targets[row] = w
            targets[row, : self._first_scored(i)] = IGNORE_INDEX
        return torch.from_numpy(inputs), torch.from_numpy(targets)

    def scored_bytes(self, indices: Sequence[int] | None = None) -> int | None:
        """UTF-8 bytes of the scored targets of ``indices`` (all windows when None).

        Args:
            indices: window numbers, or None for all.

        Returns:
            The byte count, or None when the source has no per-token byte counts.
        """
        import numpy as np

        counts = self.source.byte_counts
        if counts is None:
            return None
        total = 0
        offset = 1 if self.bos_id is None else 0
        for i in range(self.count) if indices is None else indices:
            s = i * self.stride + offset + self._first_scored(i)
            e = i * self.stride + offset + self.seq_len
            total += int(np.asarray(counts[s:e]).sum())
        return total


def make_windows(
    source: TokenSource,
    seq_len: int,
    *,
    stride: int | None = None,
    bos_id: int | None = None,
    max_position_embeddings: int | None = None,
    vocab_size: int | None = None,
) -> TokenWindows:
    """Cut a token stream into evaluation windows (policy in the module docstring).

    Args:
        source: the token stream.
        seq_len: positions per window (the model input length).
        stride: tokens between window starts, 1 ≤ stride ≤ seq_len (default seq_len).
        bos_id: prepend this BOS id to every window, or None.
        max_position_embeddings: the model's limit; a longer ``seq_len`` is refused.
        vocab_size: when given, :func:`validate_tokens` runs first.

    Returns:
        The :class:`TokenWindows`.

    Raises:
        UsageError: bad seq_len / stride, or seq_len beyond max positions.
        ArtifactError: empty token set, ids out of range, or fewer tokens than one window.
    """
    if not isinstance(seq_len, int) or seq_len < 1:
        raise UsageError(f"--seq-len must be a positive integer, got {seq_len!r}")
    if max_position_embeddings is not None and seq_len > max_position_embeddings:
        raise UsageError(
            f"--seq-len {seq_len} exceeds the model's max_position_embeddings "
            f"{max_position_embeddings} (config.json); use --seq-len ≤ {max_position_embeddings}"
        )
    step = seq_len if stride is None else stride
    if not isinstance(step, int) or not 1 <= step <= seq_len:
        raise UsageError(f"--stride must be between 1 and --seq-len {seq_len}, got {stride!r}")
    if bos_id is not None and (vocab_size is not None and not 0 <= bos_id < vocab_size):
        raise UsageError(f"BOS id {bos_id} is outside the model vocabulary [0, {vocab_size})")
    if vocab_size is not None:
        validate_tokens(source, vocab_size)
    n = source.n_tokens
    if n == 0:
        raise ArtifactError(f"{source.path}: the token set is empty (nothing to evaluate)")
    span = seq_len + (1 if bos_id is None else 0)
    if n < span:
        raise ArtifactError(
            f"{source.path}: {n} tokens is fewer than one window of {span} "
            f"(seq_len {seq_len}{'' if bos_id is not None else ' + 1'}); lower --seq-len or give "
            "more tokens"
        )
    count = (n - span) // step + 1
    scored = seq_len + (count - 1) * step
    used = (count - 1) * step + span
    return TokenWindows(source, seq_len, step, bos_id, count, scored, n - used)
