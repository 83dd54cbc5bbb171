#!/usr/bin/env bash
# ctest loadgen_smoke_memif: mrfpd on DPDK with a net_memif server port
# (--no-huge --no-shconf: no hugepages, runs beside other DPDK tests), and
# mrfp-loadgen as its memif client for 5 s with 2 conferences x 4
# participants; passes on zero loss, zero authentication failures and the
# right tones for every listener. The memif socket is unique per run under
# /tmp and removed at the end. Exits 77 (ctest SKIP_RETURN_CODE) only when
# EAL cannot start at all.
#   smoke_test_memif.sh MRFPD LOADGEN WORKDIR
set -euo pipefail
mrfpd=$1 loadgen=$2 work=$3
mkdir -p "$work"
run_dir=$(mktemp -d /tmp/mrfp-memif-smoke.XXXXXX)
socket="$run_dir/memif.sock"
log="$run_dir/mrfpd.log"
eal="--no-huge -m 256 --no-pci --no-shconf --no-telemetry -l 0 --log-level *:warning"
mrfpd_pid=
cleanup() {
  if [ -n "$mrfpd_pid" ]; then
    kill -TERM "$mrfpd_pid" 2>/dev/null || true
    wait "$mrfpd_pid" 2>/dev/null || true
  fi
  cp "$log" "$work/mrfpd.log" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

# Port range: DPDK owns it inside mrfpd, no kernel socket is bound, any range does.
# shellcheck disable=SC2086
"$mrfpd" --control-listen 127.0.0.1:0 --media-address 198.18.0.1 --dpdk-gateway 198.18.0.2 \
  --port-range 30000-30099 --dpdk -- $eal \
  --vdev "net_memif0,role=server,socket=$socket,socket-abstract=no,rsize=10,mac=02:fe:00:00:00:01" \
  > "$log" 2>&1 &
mrfpd_pid=$!
control_port=
for _ in $(seq 100); do
  control_port=$(sed -n 's/.*control on port \([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$control_port" ] && break
  if ! kill -0 "$mrfpd_pid" 2>/dev/null; then
    wait "$mrfpd_pid" 2>/dev/null || true
    mrfpd_pid=
    cat "$log" >&2
    if grep -q "rte_eal_init(" "$log"; then echo "SKIP: EAL cannot start here" >&2; exit 77; fi
    echo "mrfpd exited" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$control_port" ] || { echo "mrfpd did not report its control port" >&2; cat "$log" >&2; exit 1; }

"$loadgen" --server "127.0.0.1:$control_port" --memif "$socket" --eal "$eal" \
  --conferences 2 --size 4 --duration 5 --talkers 2 --spurt 2 \
  --mrfpd-pid "$mrfpd_pid" --json "$work/result.json" --summary-kv "$work/result.kv" || true
[ -f "$work/result.kv" ] || { echo "mrfp-loadgen wrote no result" >&2; exit 1; }

# shellcheck source=smoke_verdict.sh
source "$(dirname "$0")/smoke_verdict.sh"
# stray_packets 0: every frame from mrfpd parsed, checksums verified.
smoke_verdict "$work/result.kv" sampled_listeners=8 send_errors=0 stray_packets=0
