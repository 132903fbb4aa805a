#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one script for a machine that has one (never run by CI, which has none).
# Under 8 minutes on one GPU; every step runs under `timeout`, its output in OUT/<step>.log:
#   1. nvidia-smi and what torch sees (GPU, UUID, compute capability, arch list, the precision `auto` picks);
#   2. the CUDA tests, each file in a process of its own (determinism is set before CUDA starts, as in a job):
#      augmentation on CUDA against the CPU, one epoch trained twice giving identical weights, two jobs claiming
#      distinct GPUs by UUID, the compiled denoising step not falling back to eager;
#   3. benchmarks/throughput.py --quick --device cuda;
#   4. given the real data (DATA=folder with parrot.png, parrot_noisy.png, cifar10-jpeg.tar.gz) and snakemake, a
#      full default run on the GPU, whose metrics.json and run_info.json must say cuda and bfloat16.
# It ends with one summary line (each step ok/FAILED/skipped) and exits non-zero if any step failed.
#
#   PY=.venv/bin/python DATA=../shared/data OUT=gpu-check bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
OUT=${OUT:-gpu-check}
DATA=${DATA:-}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
summary=()
failed=0

step() {  # step NAME SECONDS COMMAND...: run COMMAND for at most SECONDS, its output into $OUT/NAME.log
    local name=$1 seconds=$2
    shift 2
    echo "== $name (at most ${seconds}s): $*"
    if timeout "$seconds" "$@" > "$OUT/$name.log" 2>&1; then
        summary+=("$name ok")
    else
        echo "   FAILED (see $OUT/$name.log)"
        summary+=("$name FAILED")
        failed=1
    fi
    tail -n 5 "$OUT/$name.log"
}

step nvidia-smi 15 nvidia-smi --query-gpu=name,uuid,driver_version,compute_cap --format=csv
step torch 40 "$PY" - <<'EOF'
import sys
sys.path.insert(0, "workflow/scripts")
import torch
from torchbasics.core.runtime import claim_device, gpu_facts, make_cuda_deterministic
from torchbasics.core.precision import resolve_precision
device, claim = claim_device("cuda", "train")
print(gpu_facts(device), torch.cuda.get_arch_list())
print("train.precision auto ->", resolve_precision("auto", device))
EOF
step cuda-tests 100 "$PY" -m pytest -q -rs tests/workflow/test_cuda.py
step cuda-augmentation 40 "$PY" -m pytest -q -rs tests/unit/test_batched_augment.py -k cuda
step throughput 50 "$PY" benchmarks/throughput.py --quick --device cuda

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
    step full-run 210 "$PY" -m snakemake --snakefile "$PWD/Snakefile" --directory "$run_dir" \
        --configfile "$PWD/config.yaml" "$run_dir/data.yaml" --cores all --resources gpu=1
    echo "full run wall time: $(( $(date +%s) - start )) s" | tee "$OUT/full-run-wall.txt"
    step full-run-records 20 "$PY" - "$run_dir" <<'EOF'
import json, pathlib, sys
results = pathlib.Path(sys.argv[1]) / "results"
run_info = json.loads(next(results.rglob("run_info.json")).read_text())
assert run_info["gpus"], "run_info.json records no GPU"
for condition in run_info["training"]:
    assert condition["device"].startswith("cuda") and condition["precision"] == "bfloat16", condition
for path in results.rglob("metrics.json"):
    metrics = json.loads(path.read_text())
    assert metrics["device"].startswith("cuda") and metrics["training_precision"] == "bfloat16", (path, metrics)
    assert metrics["gpu"] and metrics["training_gpu"], path
print("cuda and bfloat16 in run_info.json and every metrics.json:", run_info["gpus"][0]["name"])
EOF
    tail -n +1 "$run_dir"/benchmarks/*/*.tsv "$run_dir"/benchmarks/*.tsv > "$OUT/rule-benchmarks.txt" 2>&1
    cp "$run_dir"/results/report/summary.md "$OUT/" 2> /dev/null
else
    echo "== full run skipped: set DATA to the real data's folder and make snakemake importable by $PY"
    summary+=("full-run skipped")
fi
echo "gpu_check: ${summary[*]}" | tee "$OUT/summary.txt"
exit $failed
