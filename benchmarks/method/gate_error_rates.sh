#!/usr/bin/env bash
# The gate's measured error rates: RUNS interleaved runs of raw/uvicorn plaintext against an
# identical copy (false alarms) and two known slowdowns (misses), then the gate's verdicts.
#   benchmarks/method/gate_error_rates.sh [RUNS] [OUT]     (about 3-5 minutes a run)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-10}
out=${2:-$here/../../reports/gate-error-rates}
mkdir -p "$out"
cd "$here"
for i in $(seq 1 "$runs"); do
    "$here/../../.venv/bin/covet-bench" run quick \
        --app base=slowapps:base --app copy=slowapps:copy \
        --app slow10=slowapps:slow10 --app slow25=slowapps:slow25 \
        --apps base,copy,slow10,slow25 --servers uvicorn --scenarios plaintext \
        --concurrency 64 --trials 8 --duration 2 --warmup 1 --no-report --quiet \
        --out "$out/run$i" > "$out/run$i.log" 2>&1
done
"$here/../../.venv/bin/python" "$here/gate_error_rates.py" "$out"
