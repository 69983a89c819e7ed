# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both (re)build .venv when it is missing or older than pyproject.toml, then do their job.

SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := semisup
# Idle OpenMP threads sleep instead of spinning: torch's two threads stop stalling each other
# when other processes share the cores (2x faster steps at load 4, identical results).
export OMP_WAIT_POLICY ?= PASSIVE
QUIET_PIP := 2>&1 | { grep -v "is ignored" || true; }

.PHONY: demo test book lint bench results venv clean-venv

venv: $(STAMP)

# pip prints one "Location ... is ignored" warning per package for this machine's local
# indexes; they are noise, so they are filtered (real errors still fail the build).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev,book]' $(QUIET_PIP)
	# tinysoundfont requires pyaudio, which does not build here and rendering does not use.
	$(PY) -m pip install -q --no-deps 'tinysoundfont>=0.3' $(QUIET_PIP)
	# The kernel lives inside the venv (--sys-prefix), so every checkout runs its own; jupyter
	# looks in the venv before ~/.local, so an old user-level "semisup" kernel cannot shadow it.
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (semisup)" >/dev/null
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m semisup.demo

test: $(STAMP)
	$(PY) -m ruff check semisup tests benchmarks
	$(PY) -m pytest -q

# Optional third command: docs/ and the notebooks as `make demo` executed them, as a static
# site in _build/book/html (no re-execution; warnings fail the build). Run `make demo` first.
book: $(STAMP)
	$(PY) -m semisup.book

lint: $(STAMP)
	$(PY) -m ruff check semisup tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_loss.py
	$(PY) benchmarks/bench_augment.py
	$(PY) -m semisup.data.embedded.build --size small --out data/small
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_extract.py

# The README's Results table (E1-E4): ~2 h on 2 cores; resumable.
results: $(STAMP)
	$(PY) -m semisup.data.embedded.build --size small --out data/small
	$(PY) -m semisup.results

clean-venv:
	rm -rf $(VENV)
