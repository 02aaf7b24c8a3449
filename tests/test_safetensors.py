"""The numpy safetensors reader/writer (core/models/safetensors.py) against the
reference library, every rejection on a crafted file, and the weights registry
when an install holds only some of the registered files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from choreo.core.errors import ChoreoInputError
from choreo.core.models import weights as W
from choreo.core.models.safetensors import MAX_HEADER_BYTES, read_safetensors, write_safetensors

st_numpy = pytest.importorskip("safetensors.numpy")


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "b.w": rng.standard_normal((3, 4)).astype(np.float32), "a": rng.standard_normal(5),
        "half": rng.standard_normal((2, 2)).astype(np.float16), "i64": rng.integers(-9, 9, 7),
        "i32": np.arange(3, dtype=np.int32), "i16": np.arange(4, dtype=np.int16),
        "i8": np.arange(-3, 3, dtype=np.int8), "u8": np.arange(5, dtype=np.uint8),
        "u16": np.arange(3, dtype=np.uint16), "u32": np.arange(3, dtype=np.uint32),
        "u64": np.arange(3, dtype=np.uint64), "flags": np.array([True, False, True]),
        "scalar": np.array(2.5, np.float32), "empty": np.zeros((0, 3), np.float32),
        "é/ü": np.ones(2), "Z": np.arange(6.0).reshape(2, 3),
    }


META = {"choreo": '{"kind": "test", "note": "é\\n"}\t\x01'}


def _assert_same(got: dict, want: dict):
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert got[k].shape == v.shape and got[k].dtype == v.dtype.newbyteorder("="), k
        assert np.array_equal(got[k], v), k


def test_byte_identical_to_the_library_and_readable_both_ways(tmp_path):
    ts = _tensors()
    write_safetensors(tmp_path / "ours.safetensors", ts, META)
    st_numpy.save_file(ts, tmp_path / "theirs.safetensors", metadata=META)
    assert (tmp_path / "ours.safetensors").read_bytes() == (tmp_path / "theirs.safetensors").read_bytes()
    _assert_same(st_numpy.load_file(tmp_path / "ours.safetensors"), ts)
    got, meta = read_safetensors(tmp_path / "theirs.safetensors")
    _assert_same(got, ts)
    assert meta == META
    assert all(v.flags.writeable for v in got.values())
    got["a"][0] = 42.0  # writeable, and a copy: the file is untouched
    assert read_safetensors(tmp_path / "theirs.safetensors")[0]["a"][0] != 42.0
    write_safetensors(tmp_path / "e.safetensors", {})  # no tensors: '{}' padded to 8 bytes
    assert (tmp_path / "e.safetensors").read_bytes() == st_numpy.save({})
    assert read_safetensors(tmp_path / "e.safetensors") == ({}, {})
    # An empty metadata map is written as the library does ("__metadata__":{}).
    # (With no tensors as well, safetensors 0.8 writes '{},"__metadata__":{}}', not JSON.)
    write_safetensors(tmp_path / "m.safetensors", {"a": ts["a"]}, {})
    assert (tmp_path / "m.safetensors").read_bytes() == st_numpy.save({"a": ts["a"]}, metadata={})
    write_safetensors(tmp_path / "m.safetensors", {}, {})
    assert read_safetensors(tmp_path / "m.safetensors") == ({}, {})


def test_layouts_byte_orders_and_several_metadata_keys(tmp_path):
    from safetensors import safe_open

    odd = {"t": np.arange(12.0).reshape(3, 4).T, "be": np.arange(4, dtype=">f4"), "be64": np.arange(3, dtype=">i8")}
    meta = {"z": "1", "a": "2", "m": "3"}
    write_safetensors(tmp_path / "o.safetensors", odd, meta)
    theirs = st_numpy.load_file(tmp_path / "o.safetensors")
    for k, v in odd.items():
        assert np.array_equal(theirs[k], v) and theirs[k].dtype.byteorder in "=<|"
    with safe_open(str(tmp_path / "o.safetensors"), framework="numpy") as f:
        assert f.metadata() == meta
    ours, m = read_safetensors(tmp_path / "o.safetensors")
    assert m == meta and list(m) == ["a", "m", "z"]  # sorted: deterministic (the library's order is random)
    for k, v in odd.items():
        assert np.array_equal(ours[k], v) and ours[k].dtype.isnative
    data = (tmp_path / "o.safetensors").read_bytes()
    write_safetensors(tmp_path / "o2.safetensors", odd, dict(reversed(meta.items())))
    assert (tmp_path / "o2.safetensors").read_bytes() == data


def test_writer_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(TypeError):
        write_safetensors(tmp_path / "c.safetensors", {"c": np.zeros(2, np.complex64)})
    with pytest.raises(TypeError):
        write_safetensors(tmp_path / "m.safetensors", {"a": np.zeros(1)}, {"n": 1})
    with pytest.raises(ValueError):
        write_safetensors(tmp_path / "r.safetensors", {"__metadata__": np.zeros(1)})
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_bf16_is_read_as_float32(tmp_path):
    vals = np.float32([1.5, -2.0, 3.140625, 0.0, -np.inf])  # all exact in bfloat16
    raw = (vals.view(np.uint32) >> 16).astype("<u2").tobytes()
    path = _craft(tmp_path, {"x": {"dtype": "BF16", "shape": [5], "data_offsets": [0, 10]}}, raw)
    got = read_safetensors(path)[0]["x"]
    assert got.dtype == np.float32 and np.array_equal(got, vals)


def test_bf16_from_the_library(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    t = torch.tensor([0.1, 7.25, -1e30], dtype=torch.bfloat16)
    save_file({"t": t}, tmp_path / "t.safetensors")
    assert np.array_equal(read_safetensors(tmp_path / "t.safetensors")[0]["t"], t.float().numpy())


# -- rejections: one crafted file per problem ----------------------------------------------

def _craft(tmp_path, header, buffer: bytes = b"", n: int | None = None, name: str = "bad.safetensors"):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path = tmp_path / name
    path.write_bytes(struct.pack("<Q", len(raw) if n is None else n) + raw + buffer)
    return path


F4 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
CASES = [
    ("short", lambda p: _write(p, b"\x01\x02\x03"), "too short"),
    ("beyond", lambda p: _craft(p, b"{}", n=64), "beyond the end"),
    ("huge", lambda p: _craft(p, b"{}", n=MAX_HEADER_BYTES + 1), "over the"),
    ("utf8", lambda p: _craft(p, b'{"\xff": 1}'), "not UTF-8"),
    ("json", lambda p: _craft(p, b'{"a": '), "not valid JSON"),
    ("dupe", lambda p: _craft(p, b'{"a": {}, "a": {}}'), "duplicate key"),
    ("object", lambda p: _craft(p, [1, 2]), "not a JSON object"),
    ("entry", lambda p: _craft(p, {"x": [1]}), "exactly the keys"),
    ("missing", lambda p: _craft(p, {"x": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "exactly the keys"),
    ("extra", lambda p: _craft(p, {"x": {**F4, "extra": 1}}, b"\0" * 8), "exactly the keys"),
    ("dtype type", lambda p: _craft(p, {"x": {**F4, "dtype": 4}}, b"\0" * 8), "dtype is not a string"),
    ("dtype", lambda p: _craft(p, {"x": {**F4, "dtype": "F8_E4M3"}}, b"\0" * 8), "unsupported dtype"),
    ("shape type", lambda p: _craft(p, {"x": {**F4, "shape": 2}}, b"\0" * 8), "shape must be"),
    ("negative", lambda p: _craft(p, {"x": {**F4, "shape": [-2]}}, b"\0" * 8), "shape must be"),
    ("fraction", lambda p: _craft(p, {"x": {**F4, "shape": [2.0]}}, b"\0" * 8), "shape must be"),
    ("bool dim", lambda p: _craft(p, {"x": {**F4, "shape": [True, 2]}}, b"\0" * 8), "shape must be"),
    ("offsets", lambda p: _craft(p, {"x": {**F4, "data_offsets": [0]}}, b"\0" * 8), "data_offsets must be"),
    ("offset type", lambda p: _craft(p, {"x": {**F4, "data_offsets": [0, "8"]}}, b"\0" * 8), "data_offsets must be"),
    ("range", lambda p: _craft(p, {"x": {**F4, "data_offsets": [0, 16]}}, b"\0" * 8), "past the"),
    ("order", lambda p: _craft(p, {"x": {**F4, "data_offsets": [8, 0]}}, b"\0" * 8), "begin 8 > end 0"),
    ("length", lambda p: _craft(p, {"x": {**F4, "shape": [3]}}, b"\0" * 8), "needs 12"),
    ("overlap", lambda p: _craft(p, {"x": F4, "y": {**F4, "data_offsets": [4, 12]}}, b"\0" * 12), "overlaps"),
    ("gap", lambda p: _craft(p, {"x": {**F4, "data_offsets": [4, 12]}}, b"\0" * 12), "gap"),
    ("trailing", lambda p: _craft(p, {"x": F4}, b"\0" * 9), "1 trailing bytes"),
    ("meta type", lambda p: _craft(p, {"__metadata__": {"a": 1}}), "map of strings"),
    ("meta list", lambda p: _craft(p, {"__metadata__": ["a"]}), "map of strings"),
    ("bool bytes", lambda p: _craft(p, {"x": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07"),
     "BOOL bytes"),
    ("giant", lambda p: _craft(p, {"x": {"dtype": "U8", "shape": [0, 2 ** 70], "data_offsets": [0, 0]}}),
     "not allocatable"),
]


def _write(tmp_path, data: bytes):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case,make,message", CASES, ids=[c[0] for c in CASES])
def test_every_malformed_file_is_rejected_by_name(tmp_path, case, make, message):
    path = make(tmp_path)
    with pytest.raises(ChoreoInputError, match=message) as err:
        read_safetensors(path)
    assert err.value.path == str(path)
    # Through the weights loader: the same problem, under its established wording.
    with pytest.raises(ChoreoInputError, match="not a safetensors weights file"):
        W.load_weights(path)


def test_well_formed_edge_cases_are_accepted(tmp_path):
    # null metadata, key order different from offset order, zero-size tensors sharing an offset
    header = {"__metadata__": None, "y": {**F4, "data_offsets": [8, 16]}, "x": F4,
              "e": {"dtype": "F64", "shape": [0], "data_offsets": [16, 16]}}
    raw = np.float32([1, 2, 3, 4]).tobytes()
    tensors, meta = read_safetensors(_craft(tmp_path, header, raw))
    assert meta == {} and tensors["x"].tolist() == [1, 2] and tensors["y"].tolist() == [3, 4]
    assert tensors["e"].shape == (0,)
    with pytest.raises(ChoreoInputError, match="cannot read"):
        read_safetensors(tmp_path)  # a folder


# -- weights on top of it -------------------------------------------------------------------

def test_shipped_weights_read_the_same_as_with_the_library():
    for name in W.installed_models():
        path = W.shipped_path(name)
        ours, meta = read_safetensors(path)
        theirs = st_numpy.load_file(path)
        assert ours.keys() == theirs.keys()
        for k in theirs:
            assert ours[k].dtype == theirs[k].dtype and np.array_equal(ours[k], theirs[k])
        assert "choreo" in meta


def test_a_registered_file_that_is_absent_is_not_installed(tmp_path, monkeypatch):
    (tmp_path / "default.safetensors").write_bytes(W.shipped_path("default").read_bytes())
    reg = W.registry()
    (tmp_path / "weights.json").write_text(json.dumps(reg))
    monkeypatch.setattr(W, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(W, "REGISTRY", tmp_path / "weights.json")
    assert set(W.registry()) == set(reg)  # still listed
    assert W.installed_models() == ["default"]
    tensors, meta = W.load_weights(W.shipped_path())  # sha256-checked against the registry
    assert meta["kind"] == "generator"
    with pytest.raises(ChoreoInputError, match="the stgcn weights are not part of this install") as err:
        W.shipped_path("stgcn")
    assert err.value.path == str(tmp_path / "weights.json") and "installed: default" in err.value.problem
    with pytest.raises(ChoreoInputError, match="no shipped weights named 'nope'"):
        W.shipped_path("nope")


def test_checkpoint_tensors_round_trip_bit_exact(tmp_path):
    torch = pytest.importorskip("torch")
    from choreo.core.training import checkpoint as C

    g = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(5, 3, generator=g)).sum().backward()
    opt.step()
    rng = np.random.default_rng(1)
    C.save_checkpoint(tmp_path, 1, {"m": model}, {"o": opt}, rng, {})
    state = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = {i: {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()}
                 for i, s in opt.state_dict()["state"].items()}
    rng_state = torch.get_rng_state()
    torch.rand(3)
    model2 = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt2 = torch.optim.Adam(model2.parameters(), lr=1e-3)
    C.load_checkpoint(tmp_path, {"m": model2}, {"o": opt2}, np.random.default_rng(), torch.device("cpu"))
    for k, v in model2.state_dict().items():
        assert v.dtype == state[k].dtype and v.shape == state[k].shape and torch.equal(v, state[k]), k
    for i, s in opt2.state_dict()["state"].items():
        for k, v in s.items():
            assert torch.equal(v, opt_state[i][k]) and v.dtype == opt_state[i][k].dtype
    assert torch.equal(torch.get_rng_state(), rng_state)
    # The tensors file is what the library writes for the same tensors, and it reads it back.
    from safetensors.torch import load_file

    theirs = load_file(tmp_path / C.TENSORS)
    assert theirs["module/m/1.num_batches_tracked"].dtype == torch.int64
    assert torch.equal(theirs["rng/torch"], rng_state)
