#!/usr/bin/env bash
# Usage: flock /tmp/covet-bench.lock benchmarks/method/tls_vs_plain.sh   (after ci/setup)
# TLS vs plain, covet serve and uvicorn, raw app plaintext, c64; server on core 0, wrk on core 1;
# 3 interleaved rounds of 5 s each.
set -u
cd "$(dirname "$0")/../.."
export PATH=$PWD/.venv/bin:$PATH PYTHONPATH=$PWD/scenarios
D=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout $D/key.pem -out $D/cert.pem 2>/dev/null
TLS="--ssl-certfile $D/cert.pem --ssl-keyfile $D/key.pem"
run() { # name mode cmd...
  local name=$1 mode=$2; shift 2
  taskset -c 0 "$@" >/dev/null 2>&1 & local pid=$!
  for i in $(seq 100); do curl -sk -o /dev/null $mode://127.0.0.1:8099/plaintext && break; sleep 0.1; done
  local r=$(taskset -c 1 wrk -t1 -c64 -d5s $mode://127.0.0.1:8099/plaintext | awk '/Requests\/sec/ {print $2}')
  echo "$name $mode $r"
  kill $pid; wait $pid 2>/dev/null
}
for round in 1 2 3; do
  for mode in http https; do
    opts=""; [ $mode = https ] && opts="$TLS"
    run covet $mode covet serve apps.raw:app --port 8099 --no-access-log $opts
    run uvicorn $mode uvicorn apps.raw:app --port 8099 --no-access-log --log-level warning $opts
  done
done
rm -r $D
