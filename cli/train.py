"""``choreo train --config CONFIG.json``: train a generator (or the perceptual-loss ST-GCN,
the cross-modal metric, the beat network).

The config's ``"task"`` picks the trainer: ``"generator"`` (then its ``"family"``,
default ``"ren"``, picks the family whose trainer runs:
:mod:`choreo.core.generation.families`), ``"stgcn"``
(:func:`choreo.core.training.pretrain_stgcn.train_stgcn`), ``"crossmodal"`` or
``"beats"``, ``"lifter"``. See ``docs/training.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from ..core.errors import ChoreoInputError
from ..core.fileio import check_output, check_output_dir, read_json
from ..core.progress import cli_bar

TASKS = ("generator", "stgcn", "crossmodal", "beats", "lifter")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train the dance generator or the perceptual-loss ST-GCN",
                              description="Train from a JSON config (see configs/ and docs/training.md).")
    p.add_argument("--config", required=True, type=Path, metavar="CONFIG", help="training config (.json)")
    p.add_argument("--out", type=Path, default=Path("out/train"), metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto = CUDA when present (default: %(default)s)")
    p.add_argument("--steps", type=int, metavar="N", help="override the config's number of steps")
    p.set_defaults(func=run)


def load_config(path: Path) -> dict:
    """The config object of ``path``, with a known ``task`` (ChoreoInputError otherwise)."""
    config = read_json(path)
    if not isinstance(config, dict):
        raise ChoreoInputError(path, "config must be a JSON object")
    if config.get("kind") == "photoreal":  # trained on a person's clip, not the corpus
        raise ChoreoInputError(path, "a photoreal renderer's configuration: train it on a prepared target with "
                                     f"choreo video train TARGET_DIR --config {path}")
    task = config.get("task", "generator")
    if task not in TASKS:
        raise ChoreoInputError(path, f"unknown task {task!r} (known: {', '.join(TASKS)})")
    return config


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.steps is not None and args.steps < 1:
        raise ChoreoInputError("--steps", f"must be a positive integer, got {args.steps}")
    if config.get("task") in ("crossmodal", "beats", "lifter") and args.out.suffix == ".safetensors":
        check_output(args.out)  # writable, before any work
    else:
        check_output_dir(args.out)
    if config.get("task", "generator") == "stgcn":
        from ..core.training.pretrain_stgcn import train_stgcn

        if args.resume:
            raise ChoreoInputError("--resume", "the ST-GCN pre-training has no checkpoints to resume")
        if args.steps is not None:
            config = {**config, "steps": args.steps}
        with cli_bar("training ST-GCN") as bar:
            result = train_stgcn(config, args.out, bar)
        print(json.dumps({k: v for k, v in result.items() if k != "training"}, indent=1, default=str))
        return 0

    if config.get("task") == "crossmodal":
        return _train_crossmodal(config, args)
    if config.get("task") == "beats":
        return _train_beats(config, args)
    if config.get("task") == "lifter":
        return _train_lifter(config, args)

    trainer = _family_trainer(config, args.config)
    cfg = trainer.validate_config(config, where=str(args.config))  # a bad key fails before the corpus loads
    try:
        with cli_bar(f"training {cfg['variant']}") as bar:
            result = trainer.train_generator(config, args.out, resume=args.resume, device=args.device,
                                             progress=bar, max_steps=args.steps, log=print)
    except KeyboardInterrupt as exc:  # cli.main prints "interrupted" and these notes
        exc.add_note(_resume_hint(args, trainer.checkpoint_dir(args.out, cfg["variant"])))
        raise
    tr = result["final_train"]
    print(f"wrote {result['weights']} ({result['steps']} steps, {result['seconds']:.0f} s, "
          f"{result['seconds_per_step']:.3f} s/step on {result['device']})")
    print("final train losses: " + ", ".join(f"{k} {v:.4f}" for k, v in tr.items()))
    if "final_val_name" in result:  # a family whose validation is not an L1 (DanceIt: the matching loss)
        print(f"final val {result['final_val_name']}: {result['final_val_loss']:.4f}")
    else:
        print(f"final val L1: {result['final_val_l1']:.4f}")
    return 0


def _family_trainer(config: dict, path: Path):
    """The training module of the generator family the config names (default ``ren``)."""
    from ..core.generation.families import LEGACY_FAMILY, get_family

    family = get_family(config.get("family", LEGACY_FAMILY), path)
    if family.trainer is None:
        raise ChoreoInputError(path, f"the {family.name} generator family has no trainer")
    return family.trainer()


def _resume_hint(args: argparse.Namespace, folder: Path) -> str:
    """What an interrupted run left in its checkpoint ``folder``: the checkpoint to resume from, or none yet."""
    from ..core.training.checkpoint import checkpoint_step

    step = checkpoint_step(folder)
    if step is None:
        return "no checkpoint was written yet (one is written every checkpoint_every steps); nothing to resume"
    command = shlex.join(["choreo", "train", "--config", str(args.config), "--out", str(args.out), "--resume"])
    return f"the checkpoint of step {step} is kept in {folder}; resume with: {command}"


def _train_shipped(config: dict, args: argparse.Namespace, *, what: str, file: str, train, shown,
                   register) -> int:
    """A model trained into one weights file, without checkpoints; written into weights/
    it is ``register``-ed as the shipped one."""
    from ..core.models.weights import WEIGHTS_DIR

    if args.resume:
        raise ChoreoInputError("--resume", f"the {what} training has no checkpoints to resume")
    if args.steps is not None:
        config = {**config, "steps": args.steps}
    out = args.out if args.out.suffix == ".safetensors" else args.out / file
    with cli_bar(f"training {what}") as bar:
        result = train(config, out, bar)
    print(json.dumps(shown(result), indent=1))
    if out.resolve().parent == WEIGHTS_DIR.resolve():
        register(out, result)
        print(f"registered {out} as the shipped {what}")
    print(f"wrote {out} in {result['training']['seconds']} s")
    return 0


def _train_crossmodal(config: dict, args: argparse.Namespace) -> int:
    """The cross-modal metric's embeddings (issue 5)."""
    from ..core.training.crossmodal import register_shipped, train_crossmodal

    return _train_shipped(config, args, what="cross-modal metric", file="crossmodal.safetensors",
                          train=train_crossmodal, shown=lambda r: r["heldout"], register=register_shipped)


def _train_beats(config: dict, args: argparse.Namespace) -> int:
    """The beat tracker's activation network (issue 13)."""
    from ..core.models.weights import register_weights
    from ..core.training.beats import train_beats

    def register(out, result):
        t, v = result["training"], result["validation"]
        register_weights("beats", out, (
            f"beat and downbeat activations (TCN, issue 13): {t['tracks']} tracks x {len(t['varispeed'])} "
            f"speeds (configs/beats.json), {t['steps']} steps, {t['seconds']:.0f} s on CPU; never trained or "
            f"tuned on the beat set's test split"
            + (f"; validation ({v['tracks']} tracks) beat F {v['f']}, downbeat F {v['f_down']}, "
               f"meter {v['meter_right']}/{v['tracks']}" if v else "")))

    return _train_shipped(config, args, what="beat network", file="beats.safetensors", train=train_beats,
                          shown=lambda r: {"training": r["training"], "validation": r["validation"]},
                          register=register)


def _train_lifter(config: dict, args: argparse.Namespace) -> int:
    """The 2D→3D lifter (issue 17)."""
    from ..core.models.weights import register_weights
    from ..core.training.lifter import check_config, train_lifter

    check_config(config, str(args.config))  # a bad key fails before the mocap loads

    def register(out, result):
        t, h = result["training"], result["heldout"]
        clean = ", ".join(f"{k} {v['mpjpe_mm']}" for k, v in h["clean"].items())
        register_weights("lifter", out, (
            f"2D->3D lifter (temporal convolutions, issue 17): {t['takes']} CMU takes ({t['minutes']} min) through "
            f"random cameras, four keypoint layouts (configs/lifter.json), {t['steps']} steps, {t['seconds']:.0f} s "
            f"on CPU; held-out takes {', '.join(t['val_takes'])} through unseen cameras, MPJPE mm from clean 2D: "
            f"{clean}"))

    return _train_shipped(config, args, what="lifter", file="lifter.safetensors", train=train_lifter,
                          shown=lambda r: {"training": r["training"], "heldout": r["heldout"]}, register=register)
