#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one short script for a machine that has one (never run by CI, which has
# none). It records, under OUT (default gpu-check/):
#   1. nvidia-smi and what torch sees (device, compute capability, the precision `auto` picks);
#   2. the device-touching tests on CUDA (training, evaluation, precision, models);
#   3. benchmarks/throughput.py --device cuda: both precisions' training and evaluation images/s;
#   4. when snakemake imports and real data is given (DATA=folder with the shared data's three files), a full
#      default run on the GPU, its wall time and the rules' benchmark files.
#
#   PY=python3 DATA=resources/shared-data OUT=gpu-check bash benchmarks/gpu_check.sh
#
# PY is the interpreter that holds torch there (the repo's .venv where it exists). Each step's output goes to
# its own log; the script goes on after a failed step and exits non-zero at the end if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
OUT=${OUT:-gpu-check}
DATA=${DATA:-}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
failed=0

step() {  # step NAME COMMAND...: run COMMAND, its output into $OUT/NAME.log, and note a failure
    local name=$1
    shift
    echo "== $name: $*"
    if ! "$@" > "$OUT/$name.log" 2>&1; then
        echo "   FAILED (see $OUT/$name.log)"
        failed=1
    fi
    tail -n 5 "$OUT/$name.log"
}

step nvidia-smi nvidia-smi
step torch "$PY" - <<'EOF'
import sys
sys.path.insert(0, "workflow/scripts")
import torch
from torchbasics.core.precision import resolve_precision
assert torch.cuda.is_available(), "torch sees no CUDA device"
print(torch.__version__, torch.cuda.get_device_name(), torch.cuda.get_device_capability())
print("train.precision auto ->", resolve_precision("auto", "cuda"))
EOF
step tests "$PY" -m pytest -q tests/test_precision.py tests/test_train.py tests/test_models.py tests/test_evaluate.py
step throughput "$PY" benchmarks/throughput.py --device cuda

if [ -n "$DATA" ] && "$PY" -c "import snakemake" 2> /dev/null; then
    run_dir=$(mktemp -d)
    cat > "$run_dir/data.yaml" <<EOF
data:
  cifar10: {source: $(realpath "$DATA/cifar10-jpeg.tar.gz")}
  parrot:
    noisy: {source: $(realpath "$DATA/parrot_noisy.png")}
    clean: {source: $(realpath "$DATA/parrot.png")}
EOF
    start=$(date +%s)
    step full-run "$PY" -m snakemake --snakefile "$PWD/Snakefile" --directory "$run_dir" \
        --configfile "$PWD/config.yaml" "$run_dir/data.yaml" --cores all --resources gpu=1
    echo "full run wall time: $(( $(date +%s) - start )) s" | tee "$OUT/full-run-wall.txt"
    tail -n +1 "$run_dir"/benchmarks/*/*.tsv "$run_dir"/benchmarks/*.tsv > "$OUT/rule-benchmarks.txt" 2>&1
    cp "$run_dir"/results/report/summary.md "$OUT/" 2> /dev/null
else
    echo "== full run skipped: set DATA to the real data's folder and make snakemake importable by $PY"
fi
exit $failed
