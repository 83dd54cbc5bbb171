#!/usr/bin/env bash
# Capacity runner: for each codec and mix policy, raises the number of
# participants N (conferences of --size, default 10) until a run fails (a
# listener loses a packet, a mixer tick overruns (GetStats tick_overruns),
# the p99 mixer-added latency passes --latency-bound-ms, or a listener hears
# the wrong tones), then bisects; reports the highest N that held for a whole
# run. Each step gets a fresh mrfpd (socket backend, loopback, free port
# range); mrfpd's CPU comes from /proc/<pid>/stat. Writes capacity.json,
# steps.tsv and one PNG per codec (mrfpd CPU and loss against N, both
# policies on one plot) into --out.
#
# --backend memif: mrfpd on DPDK with a net_memif SERVER port on its own core
# (--mrfpd-core, default the last CPU; one worker), the load generator its memif
# CLIENT (sender and receiver on --io-core, default CPU 0), mrfpd 198.18.0.1/24
# with the load generator 198.18.0.2 as next hop. EAL memory: --in-memory on
# 2 MB hugepages when enough are free or can be reserved (what this script
# reserves it gives back), else --no-huge. --size 0: one conference of N.
#
#   bench/loadgen/capacity.sh [--build DIR] [--out DIR] [--duration S] [--codecs "pcmu opus"]
#       [--policies "shared every"] [--size 10] [--start 20] [--max 5000] [--workers 1]
#       [--latency-bound-ms 0 (one frame + jitter buffer)] [--retries 1] [--void-retries 2] [--talkers 2]
#       [--backend socket|memif]
#       [--mrfpd-core C] [--io-core C] [--mrfpd-nice N] [--mrfpd-args "..."] [--isolate-kernel-threads]
# --mrfpd-nice -10 gives mrfpd a larger CPU share against other work on its core
# (a shared build machine); the load generator's pacing threads are SCHED_FIFO.
# --start N --max N checks that one N and stops (no search). --mrfpd-args adds
# options to mrfpd's own (before the EAL's), e.g. "--dpdk-replication copied".
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$repo/build"
out=
duration=60
codecs="pcmu opus"
policies="shared every"
size=10
start=20
max=5000
workers=1
latency_bound=0  # one frame plus the jitter-buffer depth
retries=1
void_retries=2
talkers=2
backend=socket
mrfpd_core=$(( $(nproc) - 1 ))
io_core=0
mrfpd_nice=0
mrfpd_args=
isolate=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --codecs) codecs=$2; shift 2 ;;
    --policies) policies=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --start) start=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --latency-bound-ms) latency_bound=$2; shift 2 ;;
    --retries) retries=$2; shift 2 ;;
    --void-retries) void_retries=$2; shift 2 ;;
    --talkers) talkers=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --mrfpd-core) mrfpd_core=$2; shift 2 ;;
    --io-core) io_core=$2; shift 2 ;;
    --mrfpd-nice) mrfpd_nice=$2; shift 2 ;;
    --mrfpd-args) mrfpd_args=$2; shift 2 ;;
    --isolate-kernel-threads) isolate=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "capacity: unknown argument $1" >&2; exit 2 ;;
  esac
done
out=${out:-$build/capacity}
case "$backend" in
  socket) ;;
  memif) [ "$workers" = 1 ] || { echo "capacity: --backend memif drives one worker (one memif queue pair)" >&2; exit 2; } ;;
  *) echo "capacity: --backend socket or memif" >&2; exit 2 ;;
esac
mrfpd="$build/control/mrfpd"
loadgen="$build/bench/loadgen/mrfp-loadgen"
for binary in "$mrfpd" "$loadgen"; do
  [ -x "$binary" ] || { echo "capacity: $binary not built (cmake --build $build --target mrfpd mrfp-loadgen)" >&2; exit 1; }
done
mkdir -p "$out"
steps="$out/steps.tsv"
printf 'codec\tpolicy\tparticipants\tpassed\tloss_ratio\tcpu_cores\tlatency_p99_ms\ttick_overruns\treceive_socket_drops\tsteal_ms\tverdict\tio_longest_receive_gap_ms\n' > "$steps"

mrfpd_pid=
# Each step runs in a subshell ($(run_step)): its pids go to files here so an
# interrupted run still stops what the step started.
state_dir=$(mktemp -d /tmp/mrfp-capacity.XXXXXX)
memif_dir=$state_dir
stop_pid_file() {
  local file=$1 binary=$2 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  rm -f "$file"
  # Only if that pid is still the process we started.
  if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "^$binary "; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  return 0
}
stop_mrfpd() {
  if [ -n "$mrfpd_pid" ] && kill -0 "$mrfpd_pid" 2>/dev/null; then
    kill -TERM "$mrfpd_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$mrfpd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$mrfpd_pid" 2>/dev/null || true
    wait "$mrfpd_pid" 2>/dev/null || true
  fi
  mrfpd_pid=
  rm -f "$state_dir/mrfpd.pid" "$memif_dir/memif.sock"
  return 0
}

# Hugepages for --backend memif: what we add to nr_hugepages we take back.
hugepages_file=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
hugepages_added=0
hugepages_wanted=768  # 1.5 GB: mrfpd's mempools and the load generator's, with room
eal_memory="--no-huge -m 1024 --no-shconf"
loadgen_eal_memory="--no-huge -m 1024 --no-shconf"
reserve_hugepages() {
  [ -w "$hugepages_file" ] || return 0
  local free total
  free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
  if [ "${free:-0}" -lt "$hugepages_wanted" ]; then
    total=$(cat "$hugepages_file")
    echo $((total + hugepages_wanted - free)) > "$hugepages_file" 2>/dev/null || true
    hugepages_added=$(( $(cat "$hugepages_file") - total ))
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
  fi
  if [ "${free:-0}" -ge "$hugepages_wanted" ]; then
    eal_memory="--in-memory"
    loadgen_eal_memory="--in-memory"
  fi
}
release_hugepages() {
  if [ "$hugepages_added" -gt 0 ]; then
    echo $(( $(cat "$hugepages_file") - hugepages_added )) > "$hugepages_file" 2>/dev/null || true
    hugepages_added=0
  fi
}
# --isolate-kernel-threads: kernel threads that may run anywhere (kdamond,
# unbound kworkers) leave mrfpd's core for the whole run, as a DPDK deployment
# keeps its worker cores to the workers (isolcpus, tuned's cpu-partitioning).
# On a kernel without preemption (PREEMPT_NONE) a kernel thread on the core
# holds off the worker until it yields (a kdamond ran 71 ms in 13 s on mrfpd's
# core during a 15,000-participant run). Per-CPU kernel threads cannot move and
# stay. What this changes it restores at exit.
isolated_file=$state_dir/kernel-thread-affinities
isolate_kernel_threads() {
  local others pid mask hex
  others=$(awk -v skip="$mrfpd_core" -v cpus="$(nproc --all)" \
    'BEGIN {for (c = 0; c < cpus; c++) if (c != skip) printf "%s%d", (n++ ? "," : ""), c}')
  for pid in $(ps -e -o pid=,ppid= | awk '$2 == 2 {print $1}'); do
    hex=$(taskset -p "$pid" 2>/dev/null | awk '{gsub(",", "", $NF); print $NF}') || continue
    mask=$(taskset -c -p "$pid" 2>/dev/null | awk '{print $NF}') || continue
    [ -n "$hex" ] && [ -n "$mask" ] || continue
    # Only threads allowed on mrfpd's core (the per-CPU ones refuse to move).
    (( (16#$hex >> mrfpd_core) & 1 )) || continue
    taskset -c -p "$others" "$pid" > /dev/null 2>&1 && echo "$pid $mask" >> "$isolated_file"
  done
  echo "capacity: moved $(wc -l < "$isolated_file" 2>/dev/null || echo 0) kernel thread(s) off CPU $mrfpd_core" >&2
}
restore_kernel_threads() {
  [ -f "$isolated_file" ] || return 0
  local pid mask
  while read -r pid mask; do taskset -c -p "$mask" "$pid" > /dev/null 2>&1 || true; done < "$isolated_file"
  rm -f "$isolated_file"
}
cleanup() {
  stop_pid_file "$state_dir/loadgen.pid" "$loadgen"
  stop_pid_file "$state_dir/mrfpd.pid" "$mrfpd"
  stop_mrfpd
  restore_kernel_threads
  release_hugepages
  rm -rf "$state_dir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$isolate" = 1 ] && isolate_kernel_threads
if [ "$backend" = memif ]; then
  reserve_hugepages
  echo "capacity: memif backend, EAL memory: $eal_memory (hugepages added: $hugepages_added), mrfpd on CPU $mrfpd_core, load generator I/O on CPU $io_core" >&2
fi

# A block of `count` UDP ports nobody uses, in 20000-59999.
free_port_block() {
  local count=$1 candidate
  for _ in $(seq 100); do
    candidate=$((20000 + RANDOM % (40000 - count)))
    if ! ss -Huan | awk -v lo="$candidate" -v hi=$((candidate + count - 1)) \
        '{n=split($4,a,":"); p=a[n]+0; if (p>=lo && p<=hi) found=1} END {exit !found}'; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

kv() { sed -n "s/^$2=//p" "$1"; }

# One step: a fresh mrfpd, one load run; prints "held", "failed" or "void".
run_step() {
  local codec=$1 policy=$2 n=$3
  local name="$codec-$policy-$n" first control_port log attempt=1
  # A retried step keeps every attempt's printout: -2, -3, ...
  while [ -e "$out/$name.txt" ]; do attempt=$((attempt + 1)); name="$codec-$policy-$n-$attempt"; done
  local conferences=1 members=$n
  if [ "$size" != 0 ]; then conferences=$(( (n + size - 1) / size )); members=$size; fi
  local max_participants=$(( members > 1000 ? members : 1000 ))
  first=$(free_port_block $((conferences * members + 16))) || { echo "capacity: no free UDP port block" >&2; exit 1; }
  log="$out/$name.mrfpd.log"
  local transport_args=()
  if [ "$backend" = memif ]; then
    local socket="$memif_dir/memif.sock"
    rm -f "$socket"
    # EAL -l: the main lcore (control only; mrfpd unpins it once up), then the one the worker is pinned to.
    # --dpdk-tx-backlog: two ticks of output. A tick late by a few ms is followed by one on
    # time, and their 2N frames do not fit the 16,384-frame memif ring at N = 15,000.
    local tx_backlog=$(( 2 * conferences * members > 2048 ? 2 * conferences * members : 2048 ))
    # shellcheck disable=SC2086
    nice -n "$mrfpd_nice" "$mrfpd" --control-listen 127.0.0.1:0 --media-address 198.18.0.1 --dpdk-gateway 198.18.0.2 \
      --dpdk-prefix-length 24 --workers 1 --max-participants "$max_participants" --dpdk-tx-backlog "$tx_backlog" \
      --port-range "$first-$((first + conferences * members + 15))" --log-level warn $mrfpd_args \
      --dpdk -- $eal_memory --no-pci --no-telemetry -l "$io_core,$mrfpd_core" --log-level '*:warning' \
      --vdev "net_memif0,role=server,socket=$socket,socket-abstract=no,rsize=14,mac=02:fe:00:00:00:01" > "$log" 2>&1 &
    transport_args=(--memif "$socket" --io-core "$io_core"
      --eal "$loadgen_eal_memory --no-pci --no-telemetry -l $io_core --log-level *:warning")
  else
    # shellcheck disable=SC2086
    nice -n "$mrfpd_nice" "$mrfpd" --control-listen 127.0.0.1:0 --media-address 127.0.0.1 --workers "$workers" --max-participants "$max_participants" \
      --port-range "$first-$((first + conferences * members + 15))" --log-level warn $mrfpd_args > "$log" 2>&1 &
  fi
  mrfpd_pid=$!
  echo "$mrfpd_pid" > "$state_dir/mrfpd.pid"
  # With --log-level warn the ready line is not printed: find the control port from ss instead.
  control_port=
  for _ in $(seq 100); do
    control_port=$(ss -Htlnp | awk -v pid="pid=$mrfpd_pid," 'index($0, pid) {n=split($4,a,":"); print a[n]; exit}')
    [ -n "$control_port" ] && break
    kill -0 "$mrfpd_pid" 2>/dev/null || { cat "$log" >&2; echo "capacity: mrfpd exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$control_port" ] || { echo "capacity: mrfpd did not listen" >&2; exit 1; }
  "$loadgen" --server "127.0.0.1:$control_port" --conferences "$conferences" --size "$members" --codec "$codec" \
    --policy "$policy" --talkers "$talkers" --duration "$duration" --latency-bound-ms "$latency_bound" --realtime-sender \
    --mrfpd-pid "$mrfpd_pid" "${transport_args[@]}" \
    --json "$out/$name.json" --summary-kv "$out/$name.kv" > "$out/$name.txt" 2>&1 &
  local loadgen_pid=$!
  echo "$loadgen_pid" > "$state_dir/loadgen.pid"
  wait "$loadgen_pid" || true
  rm -f "$state_dir/loadgen.pid"
  stop_mrfpd
  local passed=0 verdict=failed
  if [ -f "$out/$name.kv" ]; then passed=$(kv "$out/$name.kv" passed); verdict=$(kv "$out/$name.kv" verdict); fi
  local participants=$((conferences * members))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$codec" "$policy" "$participants" "$passed" \
    "$(kv "$out/$name.kv" loss_ratio)" "$(kv "$out/$name.kv" cpu_cores)" "$(kv "$out/$name.kv" latency_p99_ms)" \
    "$(kv "$out/$name.kv" tick_overruns)" "$(kv "$out/$name.kv" receive_socket_drops)" "$(kv "$out/$name.kv" steal_ms)" \
    "$verdict" "$(kv "$out/$name.kv" io_longest_receive_gap_ms)" >> "$steps"
  echo "  N=$participants: $verdict" \
    "(loss $(kv "$out/$name.kv" loss_ratio), CPU $(kv "$out/$name.kv" cpu_cores) cores," \
    "latency p99 $(kv "$out/$name.kv" latency_p99_ms) ms, overruns $(kv "$out/$name.kv" tick_overruns)," \
    "hypervisor steal $(kv "$out/$name.kv" steal_ms) ms, load generator's longest gap between receives" \
    "$(kv "$out/$name.kv" io_longest_receive_gap_ms) ms)" >&2
  echo "$verdict"
}

# A step holds if one of 1 + --retries runs passes: on a shared machine one
# preemption of mrfpd is enough for a tick overrun. A void run (the load
# generator itself fell behind, mrfp-loadgen exit 4) counts as neither: it is
# run again, up to --void-retries times per step; a step with nothing but void
# runs ends the search there, reported as not measured.
step_holds() {
  local attempt=0 voids=0 verdict
  while [ "$attempt" -le "$retries" ]; do
    verdict=$(run_step "$@")
    case "$verdict" in
      held) return 0 ;;
      void) voids=$((voids + 1)); [ "$voids" -le "$void_retries" ] && continue ;;
    esac
    attempt=$((attempt + 1))
  done
  [ "$verdict" = void ] && return 2
  return 1
}

# One conference of N (--size 0): N in steps of 10.
step_size() { [ "$size" = 0 ] && echo 10 || echo "$size"; }
round_to_size() { local s; s=$(step_size); echo $(( ($1 + s - 1) / s * s )); }

results=()
for codec in $codecs; do
  for policy in $policies; do
    echo "capacity: $codec, $policy, ${duration} s per step, $backend backend" >&2
    held=0
    failed_at=
    unmeasured_at=
    # step_holds: 0 held, 1 failed, 2 only void runs (N not measured: the search stops there).
    check() { local rc=0; step_holds "$codec" "$policy" "$1" || rc=$?; return "$rc"; }
    n=$(round_to_size "$start")
    while [ "$n" -le "$max" ]; do
      rc=0; check "$n" || rc=$?
      case $rc in
        0) held=$n; n=$((n * 2)) ;;
        1) failed_at=$n; break ;;
        *) unmeasured_at=$n; break ;;
      esac
    done
    # Bisect down to a tenth of what held (at least one conference); with
    # --start equal to --max only that one N is checked.
    while [ -n "$failed_at" ] && [ "$start" != "$max" ]; do
      resolution=$(( held / 10 > $(step_size) ? held / 10 : $(step_size) ))
      [ $((failed_at - held)) -le "$resolution" ] && break
      mid=$(round_to_size $(( (held + failed_at) / 2 )))
      { [ "$mid" -le "$held" ] || [ "$mid" -ge "$failed_at" ]; } && break
      rc=0; check "$mid" || rc=$?
      case $rc in
        0) held=$mid ;;
        1) failed_at=$mid ;;
        *) unmeasured_at=$mid; break ;;
      esac
    done
    cpu=$(awk -F'\t' -v c="$codec" -v p="$policy" -v n="$held" '$1==c && $2==p && $3==n && $4==1 {print $6}' "$steps" | tail -1)
    cpu=${cpu:-0}
    per_core=$(awk -v n="$held" -v c="$cpu" 'BEGIN {printf "%.0f", (c > 0 ? n / c : 0)}')
    echo "capacity: $codec $policy: highest N that held: $held (mrfpd CPU $cpu cores, $per_core participants per core); first failure: ${failed_at:-none up to $max}${unmeasured_at:+; not measured at $unmeasured_at (every run void: the load generator fell behind)}" >&2
    results+=("{\"backend\":\"$backend\",\"codec\":\"$codec\",\"policy\":\"$policy\",\"highest_held\":$held,\"first_failed\":${failed_at:-null},\"not_measured_at\":${unmeasured_at:-null},\"cpu_cores_at_highest\":$cpu,\"participants_per_core\":$per_core}")
  done
done

# JSON: the verdicts and every step.
{
  echo "{\"backend\":\"$backend\",\"duration_s\":$duration,\"retries\":$retries,\"void_retries\":$void_retries,\"conference_size\":$size,\"talkers\":$talkers,\"workers\":$workers,\"latency_bound_ms\":$latency_bound,"
  echo "\"machine\":{\"cores\":$(nproc),\"load_average_at_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"},"
  echo "\"results\":[$(IFS=,; echo "${results[*]}")],"
  echo "\"steps\":["
  awk -F'\t' 'NR > 1 {printf "%s{\"codec\":\"%s\",\"policy\":\"%s\",\"participants\":%s,\"passed\":%s,\"loss_ratio\":%s,\"cpu_cores\":%s,\"latency_p99_ms\":%s,\"tick_overruns\":%s,\"receive_socket_drops\":%s,\"steal_ms\":%s,\"verdict\":\"%s\",\"io_longest_receive_gap_ms\":%s}\n", (NR > 2 ? "," : ""), $1, $2, $3, ($4 == 1 ? "true" : "false"), ($5 == "" ? "null" : $5), ($6 == "" ? "null" : $6), ($7 == "" ? "null" : $7), ($8 == "" ? "null" : $8), ($9 == "" ? "null" : $9), ($10 == "" ? "null" : $10), $11, ($12 == "" ? "null" : $12)}' "$steps"
  echo "]}"
} > "$out/capacity.json"

# One plot per codec: mrfpd CPU (% of one core, left) and loss (%, right) against N, both policies.
if command -v gnuplot > /dev/null; then
  for codec in $codecs; do
    plot_lines=()
    for policy in $policies; do
      data="$out/plot-$codec-$policy.dat"
      # Retried steps: one point per N, the mean of its runs; void runs (the
      # load generator's loss, not mrfpd's) left out.
      awk -F'\t' -v c="$codec" -v p="$policy" '$1==c && $2==p && $6 != "" && $11 != "void" {cpu[$3] += $6; loss[$3] += $5; runs[$3]++}
        END {for (n in runs) print n, cpu[n] / runs[n] * 100, loss[n] / runs[n] * 100}' "$steps" | sort -n > "$data"
      [ -s "$data" ] || continue
      plot_lines+=("'$data' using 1:2 axes x1y1 with linespoints title 'CPU $policy'")
      plot_lines+=("'$data' using 1:3 axes x1y2 with linespoints dashtype 2 title 'loss $policy'")
    done
    [ ${#plot_lines[@]} -gt 0 ] || continue
    # gnuplot refuses an empty range: with no loss at all, show 0-1 %.
    loss_range=$(awk -F'\t' -v c="$codec" '$1==c && $5+0 > 0 {found=1} END {print found ? "[0:*]" : "[0:1]"}' "$steps")
    gnuplot <<PLOT
set terminal pngcairo size 1000,600 noenhanced
set output '$out/capacity-$codec.png'
set title 'mrfpd capacity, $backend backend, $codec, $( [ "$size" = 0 ] && echo "one conference of N" || echo "conferences of $size"), $talkers talking, ${duration} s per step, $workers worker(s)'
set xlabel 'participants (N)'
set ylabel 'mrfpd CPU (% of one core)'
set y2label 'listener packet loss (%)'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range $loss_range
set key top left
set grid
set logscale x 2
plot $(IFS=,; echo "${plot_lines[*]}")
PLOT
  done
fi
echo "capacity: $out/capacity.json, $steps, $(ls "$out"/capacity-*.png 2>/dev/null | tr '\n' ' ')" >&2
