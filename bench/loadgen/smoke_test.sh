#!/usr/bin/env bash
# ctest loadgen_smoke: mrfpd on loopback (control on a port the kernel picks,
# a random free media port range), mrfp-loadgen for 5 s with 2 conferences x 4
# participants; passes on zero loss, zero authentication failures and the
# right tones for every listener. Latency and tick overruns are reported but
# not judged here: a shared CI machine makes them noisy.
#   smoke_test.sh MRFPD LOADGEN WORKDIR
set -euo pipefail
mrfpd=$1 loadgen=$2 work=$3
mkdir -p "$work"
log="$work/mrfpd.log"

port_first=
for _ in $(seq 50); do
  candidate=$((30000 + (RANDOM % 90) * 100))
  if ! ss -Huan | awk -v lo="$candidate" -v hi=$((candidate + 99)) \
      '{n=split($4,a,":"); p=a[n]+0; if (p>=lo && p<=hi) found=1} END {exit !found}'; then
    port_first=$candidate
    break
  fi
done
[ -n "$port_first" ] || { echo "no free UDP port range" >&2; exit 1; }

"$mrfpd" --control-listen 127.0.0.1:0 --media-address 127.0.0.1 --port-range "$port_first-$((port_first + 99))" \
  > "$log" 2>&1 &
mrfpd_pid=$!
trap 'kill -TERM "$mrfpd_pid" 2>/dev/null || true; wait "$mrfpd_pid" 2>/dev/null || true' EXIT
control_port=
for _ in $(seq 50); do
  control_port=$(sed -n 's/.*control on port \([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$control_port" ] && break
  kill -0 "$mrfpd_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$control_port" ] || { echo "mrfpd did not report its control port" >&2; cat "$log" >&2; exit 1; }

"$loadgen" --server "127.0.0.1:$control_port" --conferences 2 --size 4 --duration 5 --talkers 2 --spurt 2 \
  --mrfpd-pid "$mrfpd_pid" --json "$work/result.json" --summary-kv "$work/result.kv" || true
[ -f "$work/result.kv" ] || { echo "mrfp-loadgen wrote no result" >&2; exit 1; }

# shellcheck source=smoke_verdict.sh
source "$(dirname "$0")/smoke_verdict.sh"
smoke_verdict "$work/result.kv"
