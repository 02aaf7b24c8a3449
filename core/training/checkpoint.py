"""Training checkpoints without pickle: tensors in safetensors, the rest in JSON.

A checkpoint is two files in the run folder:

- ``checkpoint.safetensors``: every module's state dict (``module/<name>/<key>``)
  and every optimizer's per-parameter state (``optim/<name>/<index>/<key>``),
  plus the torch CPU RNG state (``rng/torch``, uint8);
- ``checkpoint.json``: step, the optimizers' param-group settings, the numpy
  bit-generator state, the training config, the history of logged losses, and
  the sha256 of the tensors file (so a JSON never pairs with another step's tensors).

Both are written atomically, tensors first. The tensors file goes through
:mod:`choreo.core.models.safetensors` as numpy arrays of the tensors' own
dtypes, so a resume restores every bit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from ..errors import ChoreoInputError
from ..fileio import atomic_path, read_json
from ..models.safetensors import read_safetensors, write_safetensors
from ..models.weights import sha256_file

TENSORS = "checkpoint.safetensors"
STATE = "checkpoint.json"


def _optim_tensors(name: str, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for key, val in state.items():
            if torch.is_tensor(val):
                tensors[f"optim/{name}/{idx}/{key}"] = val.detach().cpu().contiguous()
            else:
                scalars[f"{idx}/{key}"] = val
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _to_numpy(name: str, t: torch.Tensor) -> np.ndarray:
    """A CPU tensor's values as a numpy array of the same dtype and shape (0-d stays 0-d)."""
    if t.dtype == torch.bfloat16:  # no numpy bfloat16; the reader would widen it to float32
        raise TypeError(f"checkpoint tensor {name!r} is bfloat16, which checkpoints do not store")
    return t.detach().cpu().contiguous().numpy()


def save_checkpoint(folder: str | os.PathLike, step: int, modules: dict, optimizers: dict,
                    np_rng: np.random.Generator, extra: dict) -> Path:
    """Write the checkpoint of ``step`` into ``folder``; returns the JSON path."""
    folder = Path(folder)
    tensors = {f"module/{n}/{k}": v.detach().cpu().contiguous() for n, m in modules.items()
               for k, v in m.state_dict().items()}
    groups = {}
    for n, opt in optimizers.items():
        t, g = _optim_tensors(n, opt)
        tensors.update(t)
        groups[n] = g
    tensors["rng/torch"] = torch.get_rng_state()
    write_safetensors(folder / TENSORS, {k: _to_numpy(k, v) for k, v in tensors.items()},
                      metadata={"step": str(step)})
    state = {"step": step, "optimizers": groups, "numpy_rng": np_rng.bit_generator.state,
             "tensors_sha256": sha256_file(folder / TENSORS), **extra}
    with atomic_path(folder / STATE, suffix=".json") as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=1)
    return folder / STATE


def has_checkpoint(folder: str | os.PathLike) -> bool:
    return (Path(folder) / STATE).is_file() and (Path(folder) / TENSORS).is_file()


def load_checkpoint(folder: str | os.PathLike, modules: dict, optimizers: dict,
                    np_rng: np.random.Generator, device: torch.device) -> dict:
    """Restore modules, optimizers and RNG states in place; returns the JSON state."""
    folder = Path(folder)
    if not has_checkpoint(folder):
        raise ChoreoInputError(folder, "no checkpoint to resume from (checkpoint.json/.safetensors missing)")
    state = read_json(folder / STATE)
    if sha256_file(folder / TENSORS) != state.get("tensors_sha256"):
        raise ChoreoInputError(folder / TENSORS, "checkpoint tensors do not match checkpoint.json (partial write?)")
    tensors = {k: torch.from_numpy(v) for k, v in read_safetensors(folder / TENSORS)[0].items()}
    for n, m in modules.items():
        prefix = f"module/{n}/"
        sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        m.load_state_dict(sd)
    for n, opt in optimizers.items():
        g = state["optimizers"][n]
        per: dict[int, dict] = {}
        prefix = f"optim/{n}/"
        for k, v in tensors.items():
            if k.startswith(prefix):
                idx, key = k[len(prefix):].split("/", 1)
                per.setdefault(int(idx), {})[key] = v  # load_state_dict casts to the params
        for k, v in g["scalars"].items():
            idx, key = k.split("/", 1)
            per.setdefault(int(idx), {})[key] = v
        opt.load_state_dict({"state": per, "param_groups": g["param_groups"]})
    torch.set_rng_state(tensors["rng/torch"])
    np_rng.bit_generator.state = state["numpy_rng"]
    return state
