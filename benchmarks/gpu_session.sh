#!/usr/bin/env bash
# One prepared run of every CUDA path, for the lent GPU machine (no network there).
# Carry .whl (pydantic, gguf, license-expression and their needs); results land in $OUT.
#   device run: bash benchmarks/gpu_session.sh
set -u
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/nvidia-smi.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
step() { local name=$1 limit=$2; shift 2; local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1; local rc=$?
  printf "%-18s rc=%-3s %5ss\n" "$name" "$rc" "$((SECONDS - t0))"; tail -3 "$OUT/$name.log"; }
step pytest-gpu 120 python3 -m pytest -q -m gpu tests/checker -p no:cacheprovider -x
step verify-cuda 90 python3 -m albor_gates verify examples/albor-tiny-v1 --device cuda \
  --val-tokens examples/albor-tiny-v1/eval/val.bin --seq-len 256 --prompt 'def fibonacci(n):' \
  --bench --bench-tokens 128 --bench-runs 5 --parity -f json -o "$OUT/verify-cuda" -q
step dogfood-cuda 90 python3 -m albor_gates dogfood --device cuda -o "$OUT/dogfood-cuda" --force -q
step gpu-check 200 python3 benchmarks/gpu_check.py --out "$OUT/gpu_check.json"
step scan-bench 150 python3 benchmarks/bench_verify.py --device cuda --rounds 2 --skip-alternatives
ls -la "$OUT"
