#!/usr/bin/env bash
# The mrfp demo: on a fresh Debian 12 machine (as root) installs the
# dependencies, builds Release into build/, starts mrfpd on the socket backend
# (control on loopback, a free port range), and runs a conference of 8
# simulated SRTP participants (libsrtp2, distinct tones, two talking at a time
# in turns) for about 30 s with live progress from GetStats. Ends with what
# each listener heard, loss, latency and mrfpd's CPU, and writes one listener's
# decrypted mix as build/demo/listener.wav. Exit 0 when every listener heard
# what it should, non-zero otherwise. Stops everything it started.
#
#   sudo scripts/demo.sh [--duration SECONDS] [--codec pcmu|pcma|opus] [--skip-setup]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${MRFP_BUILD_DIR:-$repo/build}"  # the demo builds into build/; the override is for CI
out="$build/demo"
duration=30
codec=pcmu
skip_setup=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --codec) codec=$2; shift 2 ;;
    --skip-setup) skip_setup=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; exit 2 ;;
  esac
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$skip_setup" -eq 0 ]; then
  step "dependencies (scripts/setup.sh)"
  "$repo/scripts/setup.sh"
fi

step "build (Release, $build)"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" --target mrfpd mrfp-loadgen -j "$(nproc)"
mrfpd="$build/control/mrfpd"
loadgen="$build/bench/loadgen/mrfp-loadgen"

# A port nobody listens on (TCP for control), and a block of UDP ports nobody uses.
tcp_in_use() { ss -Htln "sport = :$1" | grep -q .; }
udp_block_in_use() { ss -Huan | awk -v lo="$1" -v hi="$2" '{n=split($4,a,":"); p=a[n]+0; if (p>=lo && p<=hi) found=1} END {exit !found}'; }
control_port=
for _ in $(seq 50); do
  candidate=$((40000 + RANDOM % 10000))
  if ! tcp_in_use "$candidate"; then control_port=$candidate; break; fi
done
port_first=
for _ in $(seq 50); do
  candidate=$((20000 + (RANDOM % 180) * 100))
  if ! udp_block_in_use "$candidate" $((candidate + 99)); then port_first=$candidate; break; fi
done
if [ -z "$control_port" ] || [ -z "$port_first" ]; then
  echo "demo: no free control port or UDP port range found" >&2
  exit 1
fi
port_range="$port_first-$((port_first + 99))"

mkdir -p "$out"
mrfpd_pid=
cleanup() {
  if [ -n "$mrfpd_pid" ] && kill -0 "$mrfpd_pid" 2>/dev/null; then
    kill -TERM "$mrfpd_pid" 2>/dev/null || true
    wait "$mrfpd_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

step "mrfpd: control 127.0.0.1:$control_port, media 127.0.0.1 ports $port_range (log: $out/mrfpd.log)"
"$mrfpd" --control-listen "127.0.0.1:$control_port" --media-address 127.0.0.1 --port-range "$port_range" \
  > "$out/mrfpd.log" 2>&1 &
mrfpd_pid=$!
for _ in $(seq 50); do
  grep -q "mrfpd ready" "$out/mrfpd.log" && break
  kill -0 "$mrfpd_pid" 2>/dev/null || { cat "$out/mrfpd.log" >&2; echo "demo: mrfpd exited" >&2; exit 1; }
  sleep 0.1
done

step "conference: 8 participants ($codec, SRTP AES_CM_128_HMAC_SHA1_80 under the group key), 2 talking at a time, turns every 4 s, ${duration} s"
status=0
"$loadgen" --server "127.0.0.1:$control_port" --conferences 1 --size 8 --codec "$codec" \
  --duration "$duration" --talkers 2 --spurt 4 --sample 8 --realtime-sender --progress --mrfpd-pid "$mrfpd_pid" \
  --json "$out/result.json" --wav "$out/listener.wav" || status=$?

step "files"
echo "listener 0's decrypted mix: $out/listener.wav"
echo "full result:                $out/result.json"
if [ "$status" -eq 0 ]; then
  echo "demo: every listener heard the right tones with no loss"
else
  echo "demo: FAILED (mrfp-loadgen exit $status)" >&2
fi
exit "$status"
