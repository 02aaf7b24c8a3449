"""The safetensors file format, read and written with numpy alone.

Layout: 8 bytes little-endian unsigned header length ``N``; ``N`` bytes of
UTF-8 JSON ``{name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
"__metadata__": {str: str}}`` (metadata optional); then the byte buffer the
offsets point into, tensors little-endian and C-ordered. The format requires
the tensors to tile the buffer exactly, in offset order, with nothing after it.

The writer produces the same bytes as the reference ``safetensors`` library
for the same input whenever that library is deterministic (it orders
metadata keys at random; this writer sorts them): tensors sorted by dtype
(widest first, in the library's dtype order) then name, compact JSON, the
header padded with spaces to a multiple of 8 bytes so every tensor is aligned.

The reader trusts nothing in the file: every deviation from the format is a
:class:`~choreo.core.errors.ChoreoInputError` naming the file and the problem,
and no allocation is sized from the file before it is checked against the
file's length.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_path

__all__ = ["read_safetensors", "write_safetensors", "MAX_HEADER_BYTES"]

#: The reference library refuses longer headers; so does this reader.
MAX_HEADER_BYTES = 100_000_000

#: safetensors dtype -> little-endian numpy dtype as stored. BF16 has no numpy
#: type: it is read as uint16 and widened to float32 (exact: bfloat16 is the
#: top half of a float32).
_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "u1",
}
#: numpy dtype -> safetensors dtype, for writing.
_NAMES = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
          np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
          np.dtype(np.int8): "I8", np.dtype(np.uint64): "U64", np.dtype(np.uint32): "U32",
          np.dtype(np.uint16): "U16", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL"}
#: The library's dtype order (its enum); tensors are laid out highest rank first.
_RANK = {name: i for i, name in enumerate(
    ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"])}
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def _is_count(v) -> bool:
    """A JSON non-negative integer (bool is an int in Python, not in JSON)."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _parse_header(path, raw: bytes, buffer_len: int) -> tuple[list, dict]:
    """Validated ``[(name, dtype, shape, begin, end)]`` in offset order, and the metadata."""
    def bad(problem: str):
        return ChoreoInputError(path, problem)

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise bad("safetensors header is not UTF-8") from None
    except ValueError as exc:  # JSONDecodeError and duplicate keys
        raise bad(f"safetensors header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise bad("safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise bad("safetensors __metadata__ is not a map of strings to strings")
    entries = []
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != _ENTRY_KEYS:
            raise bad(f"tensor {name!r}: entry must have exactly the keys dtype, shape, data_offsets")
        dtype, shape, offs = e["dtype"], e["shape"], e["data_offsets"]
        if not isinstance(dtype, str):
            raise bad(f"tensor {name!r}: dtype is not a string")
        if dtype not in _DTYPES:
            raise bad(f"tensor {name!r}: unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise bad(f"tensor {name!r}: shape must be a list of non-negative integers")
        if not isinstance(offs, list) or len(offs) != 2 or not all(_is_count(o) for o in offs):
            raise bad(f"tensor {name!r}: data_offsets must be two non-negative integers")
        begin, end = offs
        if begin > end:
            raise bad(f"tensor {name!r}: data_offsets begin {begin} > end {end}")
        if end > buffer_len:
            raise bad(f"tensor {name!r}: data_offsets end {end} is past the {buffer_len}-byte buffer")
        nbytes = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize
        if nbytes != end - begin:
            raise bad(f"tensor {name!r}: {end - begin} bytes for shape {shape} of {dtype} "
                      f"(needs {nbytes})")
        entries.append((name, dtype, tuple(shape), begin, end))
    entries.sort(key=lambda t: (t[3], t[4]))
    pos = 0
    for name, _, _, begin, end in entries:
        if begin != pos:
            what = "overlaps the previous tensor" if begin < pos else "leaves a gap before it"
            raise bad(f"tensor {name!r}: data_offsets [{begin}, {end}] {what} (buffers must tile the data)")
        pos = end
    if pos != buffer_len:
        raise bad(f"{buffer_len - pos} trailing bytes after the last tensor")
    return entries, meta


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors and metadata of a safetensors file.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    tensors : dict name -> np.ndarray
        Native byte order, writeable, each its own memory. BF16 tensors come
        back as float32 (exact widening); BOOL as numpy bool.
    metadata : dict str -> str
        The ``__metadata__`` entry ({} without one).

    Raises
    ------
    ChoreoInputError
        The file cannot be read or breaks the format (one clear problem).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise ChoreoInputError(path, "too short for a safetensors file (under 8 bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES:
                raise ChoreoInputError(path, f"safetensors header length {n} is over the {MAX_HEADER_BYTES}-byte limit")
            if n > size - 8:
                raise ChoreoInputError(path, f"safetensors header length {n} is beyond the end of the "
                                             f"{size}-byte file")
            raw = f.read(n)
            if len(raw) != n:
                raise ChoreoInputError(path, "file ended inside the safetensors header")
            entries, meta = _parse_header(path, raw, size - 8 - n)
            tensors = {}
            for name, dtype, shape, begin, end in entries:  # offset order = file order
                try:
                    arr = np.empty(shape, dtype=_DTYPES[dtype])
                except (ValueError, OverflowError, MemoryError):  # a zero-size shape with a giant extent
                    raise ChoreoInputError(path, f"tensor {name!r}: shape {list(shape)} is not allocatable") from None
                flat = arr.reshape(-1).view(np.uint8)
                if f.readinto(flat) != end - begin:
                    raise ChoreoInputError(path, f"file ended inside tensor {name!r} (changed while reading?)")
                tensors[name] = _to_native(path, name, dtype, arr)
            if f.read(1):
                raise ChoreoInputError(path, "file grew while reading (trailing bytes)")
    except OSError as exc:
        raise ChoreoInputError(path, f"cannot read: {exc.strerror or exc}") from None
    return tensors, meta


def _to_native(path, name: str, dtype: str, arr: np.ndarray) -> np.ndarray:
    if dtype == "BF16":
        return (arr.astype(np.uint32) << 16).view(np.float32)
    if dtype == "BOOL":
        if arr.size and arr.max() > 1:
            raise ChoreoInputError(path, f"tensor {name!r}: BOOL bytes other than 0 and 1")
        return arr.view(np.bool_)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _header_bytes(entries: list, metadata: dict[str, str] | None) -> bytes:
    header: dict = {}
    if metadata is not None:  # {} too, as the library writes it
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for name, dtype, shape, begin, end in entries:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}
    raw = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)  # spaces keep the tensors 8-byte aligned


def write_safetensors(path: str | os.PathLike, tensors: dict[str, np.ndarray],
                      metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (name -> array) and ``metadata`` as a safetensors file, atomically.

    Parameters
    ----------
    path : str or PathLike
        Written through a temporary file beside it (:func:`~choreo.core.fileio.atomic_path`).
    tensors : dict str -> np.ndarray
        float64/32/16, int64/32/16/8, uint64/32/16/8 or bool arrays, any
        shape and layout (stored C-ordered, little-endian).
    metadata : dict str -> str, optional

    Raises
    ------
    ValueError, TypeError
        A name or metadata entry that is not a string, the reserved name
        ``__metadata__``, or an unsupported dtype.
    """
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("safetensors metadata must map strings to strings")
    items = []
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        arr = np.asarray(value)
        kind = _NAMES.get(arr.dtype.newbyteorder("="))
        if kind is None:
            raise TypeError(f"tensor {name!r}: dtype {arr.dtype} cannot be stored in safetensors")
        items.append((name, kind, arr))
    items.sort(key=lambda t: (-_RANK[t[1]], t[0].encode("utf-8")))
    entries, pos = [], 0
    for name, kind, arr in items:
        entries.append((name, kind, arr.shape, pos, pos + arr.nbytes))
        pos += arr.nbytes
    raw = _header_bytes(entries, metadata)
    with atomic_path(path, suffix=".safetensors") as tmp:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            for _, kind, arr in items:
                little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
                f.write(little.reshape(-1).view(np.uint8).data)
