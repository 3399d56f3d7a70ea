# weightdecay — build the book, test the package and the chapters.
# `make test` and `make book` work from a fresh clone: the first call creates .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard book/chapters/*.ipynb))
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with book/nbval_sanitize.cfg --nbval-cell-timeout=600 -p no:cacheprovider

.PHONY: help setup test lint test-unit test-notebooks test-portable book execute format lab kernel benchmarks clean gpu-wheels gpu-run

help:
	@echo "make test        unit tests of the package + strict nbval over every chapter"
	@echo "make test-portable  the chapters again, as on a CPU with other vector instructions"
	@echo "make book        build the website into _build/html (warnings are errors)"
	@echo "make execute     re-execute every chapter in place (refresh stored outputs)"
	@echo "make lab         open the chapters in JupyterLab (installs the 'weightdecay' kernel)"
	@echo "make kernel      register .venv as the Jupyter kernel 'weightdecay' (for any Jupyter)"
	@echo "make lint        ruff: pyflakes errors and import order in src, tests, benchmarks"
	@echo "make format      format the chapters' code cells to the site's column (ruff)"
	@echo "make benchmarks  run the benchmarks in benchmarks/ (prints ratios against peers)"
	@echo "make clean       remove _build and caches (keeps .venv)"
	@echo "make gpu-wheels  download the wheels that the GPU run carries into .whl/ (needs internet)"
	@echo "make gpu-run     the CNN chapter's GPU run (benchmarks/gpu_run.sh; GPU_RUN_DRY=1 on a CPU)"

# (Re)create the virtual environment whenever requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(NUMBA_WARM)
	@touch $(STAMP)

# The lasso solvers are compiled by numba on first use (tens of seconds, then cached next to
# the source).  Do it ahead, so that no chapter run or test pays, or prints, the compilation.
NUMBA_WARM = $(BIN)/python -c "import weightdecay.linear as l; print(f'numba solvers ready ({l.warm_up():.1f} s)')"

setup: $(STAMP)

test: lint test-unit test-notebooks

# Progress bars (weightdecay.progress) show timings: off wherever outputs are stored or
# compared.  `make lab` leaves them on.
QUIET := WEIGHTDECAY_PROGRESS=0

# pyflakes errors and import order (settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# Unit tests, and the >>> examples of the package's docstrings as doctests.
test-unit: $(STAMP)
	$(QUIET) MPLBACKEND=Agg $(BIN)/python -m pytest tests -q
	$(QUIET) MPLBACKEND=Agg $(BIN)/python -m pytest --doctest-modules src/weightdecay -q -p no:cacheprovider

test-notebooks: $(STAMP)
	$(NUMBA_WARM)
	env -u MPLBACKEND $(QUIET) $(BIN)/python -m pytest $(NBVAL_FLAGS) -q $(NOTEBOOKS)

# The stored outputs must not depend on the machine that wrote them.  Each chapter pins
# PyTorch's and numpy's kernels in its first cell (weightdecay.reproducibility.pin_numerics);
# this target re-runs every chapter as another CPU would, against the same stored outputs:
#   ATEN_CPU_CAPABILITY=avx2      a reader's environment asking for other torch kernels
#                                 (pin_numerics must override it)
#   MKL_ENABLE_INSTRUCTIONS=SSE4_2, ONEDNN_MAX_CPU_ISA=SSE41
#                                 MKL and oneDNN as on a CPU without AVX
#   GLIBC_TUNABLES=...-AVX2,-FMA  the C library's exp/log/sin without FMA (pre-2013 CPUs)
#   OPENBLAS_CORETYPE=Nehalem     numpy's and scipy's BLAS/LAPACK on SSE4.2 kernels
#                                 (left alone where the machine sets it)
#   OPENBLAS_NUM_THREADS=1        another thread count for BLAS
#   NUMBA_CPU_NAME=generic        numba compiled for a generic x86-64 (own cache dir)
PORTABLE_ENV := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41 \
	GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F OPENBLAS_NUM_THREADS=1 \
	NUMBA_CPU_NAME=generic NUMBA_CACHE_DIR=$(CURDIR)/.numba-generic-cache

test-portable: $(STAMP)
	env $(PORTABLE_ENV) OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-Nehalem} $(NUMBA_WARM)
	env -u MPLBACKEND $(QUIET) $(PORTABLE_ENV) OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-Nehalem} \
	  $(BIN)/python -m pytest $(NBVAL_FLAGS) -q $(NOTEBOOKS)

book: $(STAMP)
	$(BIN)/jupyter-book build . -n -W --keep-going
	@test -f _build/html/index.html && echo "Book built: _build/html/index.html"

execute: $(STAMP)
	@$(NUMBA_WARM)
	@for nb in $(or $(NB),$(NOTEBOOKS)); do \
	  echo "executing $$nb"; \
	  ( cd $$(dirname $$nb) && $(QUIET) ../../$(BIN)/jupyter execute --inplace --timeout=1200 $$(basename $$nb) ) || exit 1; \
	  $(BIN)/python -c "$$STRIP_TIMESTAMPS" $$nb || exit 1; \
	done

# Execution timestamps change on every run; drop them so that re-executing a notebook whose
# outputs did not change leaves no diff.
define STRIP_TIMESTAMPS
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
for cell in nb.cells:
    cell.metadata.pop("execution", None)
nbformat.write(nb, sys.argv[1])
endef
export STRIP_TIMESTAMPS

# Execute the chapters yourself: JupyterLab from .venv on book/chapters.  The kernel
# 'weightdecay' (this .venv's Python) is registered for the user, so a Jupyter installed
# elsewhere (VS Code, a system JupyterLab) offers the book's environment too.
KERNEL_NAME := weightdecay
kernel: $(STAMP)
	$(BIN)/python -m ipykernel install --user --name $(KERNEL_NAME) --display-name "Python (weightdecay)"

lab: kernel
	$(BIN)/jupyter lab --notebook-dir=book/chapters

# Code cells are formatted to the site's text column (book/ruff.toml); tests/test_layout.py
# checks it, and that printed output and figures fit the column too.
format: $(STAMP)
	$(BIN)/ruff format book/chapters

benchmarks: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

# The built site as a reader sees it: every page of _toc.yml opened in headless Chromium with
# no network (math typeset by the site's own MathJax, images, console, links, search);
# screenshots go to artifacts/screenshots/.  Needs Debian's chromium and chromium-driver
# (.ci/install-chromium installs them).  `make test` skips tests/test_site.py.
.PHONY: check-site
check-site: book
	WEIGHTDECAY_SITE_TEST=1 $(BIN)/python -m pytest tests/test_site.py -q -p no:cacheprovider

# The CNN chapter's GPU run (benchmarks/gpu_run.sh says how to start it on a remote GPU
# machine).  gpu-wheels fetches what that machine's Python 3.12 lacks, as CPython 3.12
# manylinux or pure-Python wheels (benchmarks/gpu_wheels.txt), and builds airbench, which is
# published as a source archive only, into a pure-Python wheel; .whl/ is ignored by git.
GPU_PLATFORMS := --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
	--platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
	--platform manylinux2014_x86_64 --platform manylinux1_x86_64
AIRBENCH := airbench==0.1.8

gpu-wheels:
	rm -rf .whl
	$(PYTHON) -m pip download --no-deps --only-binary=:all: $(GPU_PLATFORMS) -d .whl -r benchmarks/gpu_wheels.txt
	$(PYTHON) -m pip wheel --no-deps -w .whl $(AIRBENCH)
	@echo "$$(ls .whl/*.whl | wc -l) wheels, $$(du -sh .whl | cut -f1) in .whl/"

gpu-run:
	bash benchmarks/gpu_run.sh
