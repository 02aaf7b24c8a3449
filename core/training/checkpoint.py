"""Training checkpoints without pickle, in one file replaced atomically.

A checkpoint is ``checkpoint.safetensors`` in the run folder:

- tensors: every module's state dict (``module/<name>/<key>``), every
  optimizer's per-parameter state (``optim/<name>/<index>/<key>``) and the
  torch CPU RNG state (``rng/torch``, uint8);
- metadata ``choreo_checkpoint``: the JSON state — step, the optimizers'
  param-group settings, the numpy bit-generator state, the training config, the
  history of logged losses, seconds (``step`` is also its own entry).

Being one file written through a temporary file and a rename
(:func:`~choreo.core.fileio.atomic_path`), a kill at any instant leaves either
the previous checkpoint or the new one, both resumable. The tensors go through
:mod:`choreo.core.models.safetensors` as numpy arrays of their own dtypes, so a
resume restores every bit. Runs checkpointed by older Choreo versions (tensors
plus ``checkpoint.json`` holding their sha256) are still read; their next save
writes the one-file layout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from ..errors import ChoreoInputError
from ..fileio import read_json
from ..models.safetensors import read_safetensors, write_safetensors
from ..models.weights import sha256_file

TENSORS = "checkpoint.safetensors"
STATE_KEY = "choreo_checkpoint"  # the metadata entry holding the JSON state
LEGACY_STATE = "checkpoint.json"  # the state's own file in the two-file layout


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
    """Write the checkpoint of ``step`` into ``folder`` atomically; returns its path."""
    folder = Path(folder)
    tensors = {f"module/{n}/{k}": v.detach().cpu().contiguous() for n, m in modules.items()
               for k, v in m.state_dict().items()}
    groups = {}
    for n, opt in optimizers.items():
        t, g = _optim_tensors(n, opt)
        tensors.update(t)
        groups[n] = g
    tensors["rng/torch"] = torch.get_rng_state()
    state = {"step": step, "optimizers": groups, "numpy_rng": np_rng.bit_generator.state, **extra}
    write_safetensors(folder / TENSORS, {k: _to_numpy(k, v) for k, v in tensors.items()},
                      metadata={"step": str(step), STATE_KEY: json.dumps(state)})
    legacy = folder / LEGACY_STATE
    if legacy.exists():  # the state now lives in the tensors file; the old one would only mislead
        legacy.unlink()
    return folder / TENSORS


def has_checkpoint(folder: str | os.PathLike) -> bool:
    return (Path(folder) / TENSORS).is_file()


def _read(folder: Path) -> tuple[dict, dict]:
    """The tensors and the JSON state of the checkpoint in ``folder`` (either layout)."""
    path = folder / TENSORS
    if not path.is_file():
        raise ChoreoInputError(folder, f"no checkpoint to resume from ({TENSORS} missing)")
    tensors, meta = read_safetensors(path)
    if STATE_KEY in meta:
        try:
            state = json.loads(meta[STATE_KEY])
        except json.JSONDecodeError as e:
            raise ChoreoInputError(path, f"checkpoint state is not valid JSON ({e})") from None
    elif (folder / LEGACY_STATE).is_file():  # the two-file layout of older versions
        state = read_json(folder / LEGACY_STATE)
        if not isinstance(state, dict) or sha256_file(path) != state.get("tensors_sha256"):
            raise ChoreoInputError(path, f"checkpoint from an older Choreo whose two files do not match "
                                         f"(it was stopped between writing them); it cannot be resumed: "
                                         f"train again without --resume")
    else:
        raise ChoreoInputError(path, "holds no training state (not a Choreo checkpoint)")
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise ChoreoInputError(path, "checkpoint state has no step")
    return tensors, state


def checkpoint_step(folder: str | os.PathLike) -> int | None:
    """The step of the checkpoint in ``folder``; None when there is none usable."""
    try:
        return _read(Path(folder))[1]["step"]
    except ChoreoInputError:
        return None


def load_checkpoint(folder: str | os.PathLike, modules: dict, optimizers: dict,
                    np_rng: np.random.Generator, device: torch.device) -> dict:
    """Restore modules, optimizers and RNG states in place; returns the JSON state."""
    arrays, state = _read(Path(folder))
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
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


def resume_run(folder: str | os.PathLike, modules: dict, optimizers: dict, np_rng: np.random.Generator,
               device: torch.device, config: dict, resumable: tuple[str, ...], log) -> tuple[int, float, list]:
    """:func:`load_checkpoint` for ``--resume``: ``(step, seconds, history)`` of the run in
    ``folder``; a checkpoint made with another config (beyond the ``resumable`` keys) is refused."""
    state = load_checkpoint(folder, modules, optimizers, np_rng, device)
    changed = sorted(k for k in set(config) | set(state["config"])
                     if k not in resumable and config.get(k) != state["config"].get(k))
    if changed:
        raise ChoreoInputError(folder, f"checkpoint was made with a different config ({', '.join(changed)})")
    log(f"resumed from step {state['step']} ({folder})")
    return state["step"], state["seconds"], state["history"]
