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

.PHONY: venv demo extension test test-lts bench-beats corpus clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m choreo demo

# The extension zip, built and validated by Blender's own tool (addon/package.py).
extension: $(STAMP)
	$(PY) -m choreo.addon.package dist

test: $(STAMP)
	$(PY) -m pytest

# The same suite on the Blender LTS (bpy 4.5), in its own venv.
$(LTS_STAMP): requirements.txt pyproject.toml
	test -x $(LTS_PY) || $(PYTHON) -m venv $(LTS_VENV)
	$(LTS_PY) -m pip install -q --upgrade pip
	grep -v '^bpy==' requirements.txt > $(LTS_VENV)/requirements-lts.txt
	$(LTS_PY) -m pip install -r $(LTS_VENV)/requirements-lts.txt "bpy==$(BPY_LTS)"
	$(LTS_PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

test-lts: $(LTS_STAMP)
	$(LTS_PY) -m pytest

# Beat-tracker benchmark against the exact grids in ../shared/data/music.
# essentia is an optional, benchmark-only peer (AGPL; never a dependency of Choreo).
bench-beats: $(STAMP)
	$(PY) -m pip install -q essentia || echo "essentia unavailable: benchmark runs without it"
	$(PY) benchmarks/beat_benchmark.py

corpus: $(STAMP)
	$(PY) -m choreo dataset build --mocap ../shared/data/mocap/cmu --music ../shared/data/music --out out/corpus.npz

clean:
	rm -rf out build dist *.egg-info .pytest_cache
