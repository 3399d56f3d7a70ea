#!/usr/bin/env bash
# The CNN chapter's GPU run in one command: executes book/chapters/cnn_speed.ipynb in place on
# the CUDA path and runs benchmarks/cnn.py (the chapter's network against airbench's
# make_net94), writing the results to $OUT.  The work itself is benchmarks/gpu_run.py; this
# script only installs what the GPU machine lacks.
#
# ---------------------------------------------------------------------------------------------
# Preparing (on a machine with internet, in the repository root):
#
#   make gpu-wheels        # .whl/: the Jupyter kernel machinery, mnist1d and airbench as
#                          # cp312 manylinux / pure-Python wheels (about 15 MiB; .whl is ignored)
#   GPU_RUN_DRY=1 OUT=/tmp/gpu-dry bash benchmarks/gpu_run.sh   # optional CPU rehearsal (~20 s)
#
# The remote run: a GPU machine (Python 3.12 with torch + CUDA, numpy, scipy, matplotlib,
# scikit-learn, numba, tqdm; no Jupyter, no internet) that gets a copy of this working tree,
# with the ignored folder .whl carried along, and returns what the command writes under $OUT.
# One call, exactly:
#
#   command:   PYTHONUNBUFFERED=1 bash benchmarks/gpu_run.sh
#   carry:     [".whl"]
#   timeout_s: 450
#
# Expected: about 20 s of installs, about 1 min of benchmark, 3-5 min of notebook (two
# torch.compile builds of the ResNet-9 are the least certain part); the script stops the
# notebook at its budget (GPU_RUN_BUDGET_S, default 400 s) and still writes what it has.
# A second, shorter call can redo one half:
#   PYTHONUNBUFFERED=1 bash benchmarks/gpu_run.sh --skip-benchmark   (or --skip-notebook)
#
# What comes back in $OUT (6 files, flat): gpu_run.log (everything, installs included),
# benchmark.txt and benchmark.csv (benchmarks/cnn.py), cnn_speed.ipynb (as executed),
# cnn_speed.merged.ipynb (the stored notebook with the GPU cells' outputs from this run) and
# summary.md (the tables, time to accuracy, and the PASS/FAIL lines below).
#
# Targets, printed as PASS/FAIL lines at the end of the output:
#   step time of the chapter's network <= 1.2 x airbench94's (same batch, same process)
#   weight-decay overhead <= 1 % of a training step (SGD and AdamW, foreach and fused)
# and checks: the notebook ran to the end; the GPU cells print the GPU's name; the cells
# that strict nbval checks print what is stored (if not, the CPU side differs between the
# GPU machine's torch and the book's pinned one: commit cnn_speed.merged.ipynb instead);
# the GPU cells' printed lines fit the 76-character column.
#
# Afterwards, here: copy the notebook that summary.md names to book/chapters/cnn_speed.ipynb
# and run strict nbval and the portability check on it (their ignored cells keep the GPU
# outputs; every other cell must pass unchanged); keep benchmark.csv/summary.md as the table.
# ---------------------------------------------------------------------------------------------
set -uo pipefail
cd "$(dirname "$0")/.."

OUT="${OUT:-$PWD/artifacts/gpu-run}"
if [ "${GPU_RUN_DRY:-0}" = 1 ] && [ -x .venv/bin/python ]; then
  PY="${PYTHON:-$PWD/.venv/bin/python}" # the rehearsal uses the book's environment
else
  PY="${PYTHON:-python3}" # on the GPU machine: the python3 that holds torch
fi
SITE="${GPU_RUN_SITE:-/tmp/site}"
mkdir -p "$OUT"
LOG="$OUT/gpu_run.log"
: >"$LOG"

DRY=()
if [ "${GPU_RUN_DRY:-0}" = 1 ]; then
  DRY=(--dry-run)
  echo "== dry run: nothing installed, the current environment is used" | tee -a "$LOG"
else
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "FAIL no NVIDIA GPU here (no nvidia-smi): GPU_RUN_DRY=1 rehearses the run on the CPU" | tee -a "$LOG"
    exit 3
  fi
  if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "FAIL no wheels in .whl/: run 'make gpu-wheels' where there is internet, and carry .whl" | tee -a "$LOG"
    exit 2
  fi
  echo "== installing $(ls .whl/*.whl | wc -l) carried wheels and the project (--no-deps) into $SITE" | tee -a "$LOG"
  t0=$SECONDS
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl 2>&1 | tee -a "$LOG" || {
    echo "FAIL the carried wheels did not install" | tee -a "$LOG"
    exit 2
  }
  # The project without its dependencies (torch and the rest are the machine's own).
  if ! "$PY" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir \
    --upgrade --target "$SITE" . 2>&1 | tee -a "$LOG"; then
    echo "WARNING the project did not install: using src/ on PYTHONPATH" | tee -a "$LOG"
    export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
  echo "installs: $((SECONDS - t0)) s" | tee -a "$LOG"
fi

exec "$PY" -u benchmarks/gpu_run.py --out "$OUT" "${DRY[@]}" "$@"
