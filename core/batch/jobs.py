"""A batch job file (TOML) read, checked and expanded into jobs with stable ids.

The file holds ``[defaults]`` and one ``[[jobs]]`` table per group of jobs; a group is the
product of its ``songs`` × ``rigs`` (× ``characters`` on the built-in rig) × ``families`` ×
``seeds`` × ``energy``. Relative paths are relative to the job file's folder. Every problem
found here names the job file and its line, and is found before any work: an unknown key, a
value of the wrong kind or out of range, a song or rig that is missing or not what its name
says, a bad seed, two jobs that would write one folder. docs/batch.md describes the keys.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ChoreoInputError

DEMO_SONG = "demo"          # the built-in demo track, synthesised into the output folder
DEFAULT_RIG = "default"     # Choreo's own rig
CHARACTERS = ("mannequin", "actor")   # how the built-in rig is dressed
OUTPUTS = ("blend", "bvh", "npz", "preview", "photoreal")
KEY_MODES = ("beats", "poses", "dense")
ENGINES = ("workbench", "eevee", "cycles")
CAMERAS = ("follow", "stage", "fixed")   # the preview cameras (rigs/stage.py)
CODECS = ("h264", "h265", "av1")
QUALITIES = ("low", "medium", "high", "lossless")

#: key -> (kind, default). Kinds: "list:str", "list:int", "list:num" (a single value is a list
#: of one), "str", "num", "bool", "int", "table". Tables hold their own keys (below).
GROUP_KEYS = {
    "songs": ("list:str", None),
    "rigs": ("list:str", [DEFAULT_RIG]),
    "characters": ("list:str", ["mannequin"]),
    "armature": ("str", None),
    "families": ("list:str", ["default"]),
    "seeds": ("list:int", [0]),
    "energy": ("list:num", [1.0]),
    "start": ("num", None),
    "end": ("num", None),
    "turn": ("num", 0.5),
    "travel": ("num", 0.5),
    "stage": ("num", 4.0),
    "key_mode": ("str", "beats"),
    "fps": ("rate", 30),
    "outputs": ("list:str", ["blend", "preview"]),
    "preview": ("table", None),
    "photoreal": ("table", None),
}
PREVIEW_KEYS = {
    "width": ("int", 640), "height": ("int", 360), "engine": ("str", "workbench"), "samples": ("int", None),
    "camera": ("str", "follow"), "margin": ("num", 0.1), "caption": ("bool", False), "codec": ("str", "h264"),
    "quality": ("str", "medium"),
}
PHOTOREAL_KEYS = {"target": ("str", None), "camera_yaw": ("num", 0.0), "backend": ("str", "auto")}
TABLE_KEYS = {"preview": PREVIEW_KEYS, "photoreal": PHOTOREAL_KEYS}
TOP_KEYS = ("defaults", "jobs", "out")


class JobFileError(ChoreoInputError):
    """A problem in a job file, at a line (``path:line: problem``)."""

    def __init__(self, path, line: int | None, problem: str):
        super().__init__(f"{path}:{line}" if line else path, problem)
        self.line = line


@dataclass(frozen=True)
class Job:
    """One dance to make: its stable ``id`` (its folder's name), what it is made from and how."""

    id: str
    song: str               # absolute path, or DEMO_SONG
    rig: str                # absolute path, or DEFAULT_RIG
    character: str | None   # the built-in rig's dressing; None for a rig file
    family: str             # a shipped model's name or an absolute weights path
    seed: int
    energy: float
    settings: dict = field(default_factory=dict)   # everything else, checked (see GROUP_KEYS)
    line: int = 0           # the job group's line in the job file

    def to_dict(self) -> dict:
        return {"id": self.id, "song": self.song, "rig": self.rig, "character": self.character,
                "family": self.family, "seed": self.seed, "energy": self.energy, "settings": self.settings,
                "line": self.line}

    @classmethod
    def from_dict(cls, d: dict) -> "Job":
        return cls(**d)


@dataclass
class JobFile:
    path: str
    jobs: list[Job]
    out: str | None          # the file's own ``out``, absolute (``--out`` overrides it)


# -- where each key is written ------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _depth_change(line: str) -> int:
    """Open minus closed brackets and braces outside strings and comments."""
    depth, quote = 0, None
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def key_lines(text: str) -> dict[tuple, int]:
    """Line numbers (1-based) of the tables and keys of a job file: ``("defaults", key)``,
    ``("jobs", i, key)`` (keys of sub-tables dotted: ``"preview.width"``), ``("jobs", i)``
    for the i-th ``[[jobs]]`` header and ``(key,)`` at the top level."""
    lines: dict[tuple, int] = {}
    scope: tuple = ()
    prefix, jobs, depth = "", -1, 0
    for n, line in enumerate(text.splitlines(), 1):
        if depth > 0:  # inside a multi-line value
            depth += _depth_change(line)
            continue
        m = _HEADER.match(line)
        if m:
            name = m.group(2).replace('"', "").replace("'", "")
            head, _, rest = name.partition(".")
            if m.group(1) == "[[" and name == "jobs":
                jobs += 1
                scope, prefix = ("jobs", jobs), ""
                lines[scope] = n
            elif head in ("jobs", "defaults"):
                scope = ("jobs", max(jobs, 0)) if head == "jobs" else ("defaults",)
                prefix = rest + "." if rest else ""
                lines.setdefault(scope + ((rest,) if rest else ()), n)
            else:
                scope, prefix = (name,), ""
                lines.setdefault(scope, n)
            continue
        m = _KEY.match(line)
        if m:
            key = prefix + m.group(1).replace('"', "").replace("'", "").replace(" ", "")
            lines.setdefault(scope + (key,), n)
            depth = _depth_change(line[m.end():])
    return lines


# -- reading -----------------------------------------------------------------------

class _Reader:
    def __init__(self, path: Path, text: str):
        self.path, self.base = path, path.parent
        self.lines = key_lines(text)

    def fail(self, where: tuple, problem: str):
        n = 2 if where[:1] == ("jobs",) else 1 if where[:1] == ("defaults",) else 0
        scope, keys = where[:n], where[n:]
        line = None
        for k in range(len(keys), -1, -1):  # the key's own line, else its table's
            line = self.lines.get(scope + ((".".join(keys[:k]),) if k else ()))
            if line:
                break
        raise JobFileError(self.path, line, problem)

    def value(self, where: tuple, kind: str, v):
        key = where[-1]
        if kind.startswith("list:"):
            items = v if isinstance(v, list) else [v]
            if not items:
                self.fail(where, f"{key} is empty")
            return [self.value(where, kind[5:], x) for x in items]
        ok = {"str": isinstance(v, str) and v.strip() != "",
              "int": isinstance(v, int) and not isinstance(v, bool),
              "num": isinstance(v, (int, float)) and not isinstance(v, bool),
              "bool": isinstance(v, bool),
              "rate": isinstance(v, (int, float, str)) and not isinstance(v, bool),
              "table": isinstance(v, dict)}[kind]
        if not ok:
            want = {"str": "a text", "int": "a whole number", "num": "a number", "bool": "true or false",
                    "rate": "a frame rate (30, 25, 23.976 or \"24000/1001\")", "table": "a table"}[kind]
            self.fail(where, f"{key} must be {want}, not {v!r}")
        return v

    def table(self, where: tuple, data: dict, keys: dict) -> dict:
        out = {}
        for key, v in data.items():
            if key not in keys:
                self.fail(where + (key,), f"unknown key {key!r}; known: {', '.join(keys)}")
            kind, _ = keys[key]
            if kind == "table":
                out[key] = self.table(where + (key,), v if isinstance(v, dict) else
                                      self.value(where + (key,), "table", v), TABLE_KEYS[key])
            else:
                out[key] = self.value(where + (key,), kind, v)
        return out

    def path_of(self, where: tuple, p: str) -> Path:
        q = Path(os.path.expanduser(p))
        return (q if q.is_absolute() else self.base / q).resolve()


def _merge(defaults: dict, group: dict) -> dict:
    out = dict(defaults)
    for k, v in group.items():
        out[k] = {**defaults[k], **v} if isinstance(v, dict) and isinstance(defaults.get(k), dict) else v
    return out


def _songs(r: _Reader, where: tuple, entries: list[str]) -> list[str]:
    from ..audio.io import AUDIO_EXTENSIONS

    songs = []
    for s in entries:
        if s == DEMO_SONG:
            songs.append(DEMO_SONG)
            continue
        p = r.path_of(where, s)
        if p.is_dir():
            found = sorted(str(q) for q in p.iterdir() if q.is_file() and q.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                r.fail(where, f"the song folder {p} holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
            songs += found
        elif not p.is_file():
            r.fail(where, f"song not found: {p}")
        elif p.suffix.lower() not in AUDIO_EXTENSIONS:
            r.fail(where, f"{p.name} is not an audio file ({', '.join(AUDIO_EXTENSIONS)})")
        else:
            songs.append(str(p))
    return songs


def rig_problem(path: Path) -> str | None:
    """Why the rig file ``path`` cannot be a rig (None when its header says .blend or FBX)."""
    ext = path.suffix.lower()
    if ext not in (".blend", ".fbx"):
        return f"a rig must be a .blend or .fbx file, not {path.name}"
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError as exc:
        return f"cannot read the rig {path}: {exc.strerror or exc}"
    if ext == ".blend":
        # A .blend starts with "BLENDER"; compressed ones are gzip (old) or zstd (2.83 and later).
        if head.startswith((b"BLENDER", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")):
            return None
        return f"{path} is not a .blend file (its header is not Blender's)"
    if head.startswith(b"Kaydara FBX Binary") or b"FBX" in head[:32] or head.lstrip().startswith(b";"):
        return None
    return f"{path} is not an FBX file (neither binary nor ASCII FBX)"


def _rigs(r: _Reader, where: tuple, entries: list[str]) -> list[str]:
    rigs = []
    for s in entries:
        if s == DEFAULT_RIG:
            rigs.append(DEFAULT_RIG)
            continue
        p = r.path_of(where, s)
        if not p.is_file():
            r.fail(where, f"rig not found: {p}")
        problem = rig_problem(p)
        if problem:
            r.fail(where, problem)
        rigs.append(str(p))
    return rigs


def _families(r: _Reader, where: tuple, entries: list[str]) -> list[str]:
    from ..models.weights import registry

    known = registry()
    out = []
    for s in entries:
        if s in known:
            out.append(s)
            continue
        p = r.path_of(where, s)
        if not p.is_file():
            r.fail(where, f"no shipped model named {s!r} and no weights file {p} (shipped: "
                          f"{', '.join(sorted(known))})")
        out.append(str(p))
    return out


def _check_group(r: _Reader, where: tuple, g: dict, raw: dict) -> dict:
    """Ranges and choices of a merged group (kinds were checked while reading); a problem
    with a value the group took from ``[defaults]`` names the line there."""
    from ..generation.energy import ENERGY_RANGE
    from ..generation.pipeline import SEED_RANGE

    def origin(w: tuple) -> tuple:
        table, rest = (raw, w[2:]) if w[:2] == where else (None, ())
        for k in rest[:-1]:
            table = table.get(k) if isinstance(table, dict) else None
        return w if isinstance(table, dict) and rest and rest[-1] in table else ("defaults",) + w[2:]

    def choice(key, value, allowed, w=where):
        if value not in allowed:
            r.fail(origin(w + (key,)), f"{key} {value!r} is not one of {', '.join(allowed)}")

    def within(key, value, lo, hi, w=where):
        if not lo <= value <= hi:
            r.fail(origin(w + (key,)), f"{key} {value!r} is out of range ({lo:g}–{hi:g})")

    if "songs" not in g:
        r.fail(where, "a job group needs songs (files, folders, or \"demo\")")
    for s in g["seeds"]:
        if not SEED_RANGE[0] <= s <= SEED_RANGE[1]:
            r.fail(origin(where + ("seeds",)), f"seed {s} is out of range (0 to 2**63 - 1)")
    for e in g["energy"]:
        within("energy", e, *ENERGY_RANGE)
    within("turn", g["turn"], 0.0, 1.0)
    within("travel", g["travel"], 0.0, 1.0)
    within("stage", g["stage"], 1.0, 50.0)
    choice("key_mode", g["key_mode"], KEY_MODES)
    for o in g["outputs"]:
        choice("outputs", o, OUTPUTS)
    for c in g["characters"]:
        choice("characters", c, CHARACTERS)
    if g.get("start") is not None and g["start"] < 0:
        r.fail(where + ("start",), f"start {g['start']} is before the song")
    if g.get("start") is not None and g.get("end") is not None and g["end"] <= g["start"]:
        r.fail(where + ("end",), f"end {g['end']} is not after start {g['start']}")
    pv, pw = g["preview"], where + ("preview",)
    for key in ("width", "height"):
        within(key, pv[key], 16, 7680, pw)
        if pv[key] % 2:
            r.fail(origin(pw + (key,)), f"{key} {pv[key]} must be even (H.264 and H.265 need even sizes)")
    choice("engine", pv["engine"], ENGINES, pw)
    choice("camera", pv["camera"], CAMERAS, pw)
    choice("codec", pv["codec"], CODECS, pw)
    choice("quality", pv["quality"], QUALITIES, pw)
    within("margin", pv["margin"], 0.0, 0.4, pw)
    if pv["samples"] is not None:
        within("samples", pv["samples"], 1, 4096, pw)
    ph = g["photoreal"]
    if "photoreal" in g["outputs"]:
        if not ph.get("target"):
            r.fail(where + ("outputs",), "a photoreal output needs photoreal.target (a renderer trained by "
                                         "`choreo video train`)")
        t = r.path_of(where + ("photoreal",), ph["target"])
        if not t.is_file():
            r.fail(where + ("photoreal", "target"), f"renderer not found: {t}")
        ph = {**ph, "target": str(t)}
        choice("backend", ph["backend"], ("auto", "torch", "numpy"), where + ("photoreal",))
    return {**g, "photoreal": ph}


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return s[:48] or "x"


def job_id(song: str, rig: str, character: str | None, family: str, seed: int, energy: float) -> str:
    """The folder name of a job, from what it is made of: the same file gives the same ids."""
    parts = [_slug(Path(song).stem if song != DEMO_SONG else song),
             _slug(Path(rig).stem if rig != DEFAULT_RIG else (character or rig)),
             _slug(Path(family).stem), f"seed{seed}"]
    if energy != 1.0:
        parts.append(f"energy{energy:g}")
    return "_".join(parts)


def read_job_file(path: str | os.PathLike) -> JobFile:
    """Read, check and expand the job file ``path`` (see the module's doc).

    Raises :class:`JobFileError` (``FILE:LINE: problem``) for anything wrong in it.
    """
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChoreoInputError(path, "job file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChoreoInputError(path, f"cannot read the job file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # "(at line N, column M)", or "(at end of document)"
        m = re.search(r"at line (\d+)", str(exc))
        line = int(m.group(1)) if m else max(len(text.splitlines()), 1)
        raise JobFileError(path, line, f"not valid TOML: {exc}") from None
    r = _Reader(path, text)
    for key in data:
        if key not in TOP_KEYS:
            r.fail((key,), f"unknown key {key!r} at the top level; known: {', '.join(TOP_KEYS)}")
    base = {k: (dict((kk, dv) for kk, (_, dv) in TABLE_KEYS[k].items()) if kind == "table" else d)
            for k, (kind, d) in GROUP_KEYS.items() if d is not None or kind == "table"}
    defaults = _merge(base, r.table(("defaults",), r.value(("defaults",), "table", data.get("defaults", {})),
                                    GROUP_KEYS))
    groups = data.get("jobs")
    if not isinstance(groups, list) or not groups:
        raise JobFileError(path, None, "no jobs: add at least one [[jobs]] table with songs")
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(groups):
        where = ("jobs", i)
        g = _check_group(r, where, _merge(defaults, r.table(where, raw, GROUP_KEYS)), raw)
        line = r.lines.get(where, 0)
        songs = _songs(r, where + ("songs",), g.pop("songs"))
        rigs = _rigs(r, where + ("rigs",), g.pop("rigs"))
        families = _families(r, where + ("families",), g.pop("families"))
        characters, seeds, energies = g.pop("characters"), g.pop("seeds"), g.pop("energy")
        if "characters" in raw and DEFAULT_RIG not in rigs:
            r.fail(where + ("characters",), "characters dress the built-in rig; this group has only rig files")
        if g.get("armature") and all(x == DEFAULT_RIG for x in rigs):
            r.fail(where + ("armature",), "armature names the armature of a rig file; this group has none")
        for song in songs:
            for rig in rigs:
                for character in (characters if rig == DEFAULT_RIG else [None]):
                    for family in families:
                        for seed in seeds:
                            for energy in energies:
                                jid = job_id(song, rig, character, family, seed, float(energy))
                                if jid in seen:
                                    r.fail(where, f"job {jid} is made twice (also by the group at line "
                                                  f"{seen[jid]}); two songs, rigs or models with one name "
                                                  f"need renaming")
                                seen[jid] = line
                                jobs.append(Job(jid, song, rig, character, family, int(seed), float(energy),
                                                dict(g), line))
    out = data.get("out")
    if out is not None:
        out = str(r.path_of(("out",), r.value(("out",), "str", out)))
    return JobFile(str(path), jobs, out)
