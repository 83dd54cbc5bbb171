#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a given
# number of seconds from a seed corpus of valid packets the builders generate.
#   scripts/fuzz.sh [seconds per target, default 30] [target...]
#   targets: udp_frame rtp rtcp srtp_unprotect (default: all)
# The growing corpus lives in build-fuzz/corpus/<target>; crashes are written to
# build-fuzz/crashes/<target>/ and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(udp_frame rtp rtcp srtp_unprotect)
build_dir=build-fuzz
jobs=${FUZZ_BUILD_JOBS:-2}

CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMRFP_FUZZ=ON -DMRFP_SANITIZE=ON >/dev/null
build_targets=()
for target in "${targets[@]}"; do build_targets+=("${target}_fuzzer" "${target}_seed_writer"); done
cmake --build "$build_dir" --target "${build_targets[@]}" -j "$jobs"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for target in "${targets[@]}"; do
  seeds="$build_dir/seeds/$target"
  corpus="$build_dir/corpus/$target"
  crashes="$build_dir/crashes/$target"
  mkdir -p "$seeds" "$corpus" "$crashes"
  "$build_dir/fuzz/${target}_seed_writer" --write-seeds "$seeds"
  log="$build_dir/fuzz-$target.log"
  echo "== $target: ${seconds}s"
  if ! "$build_dir/fuzz/${target}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$crashes/" "$corpus" "$seeds" >"$log" 2>&1; then
    echo "!! $target: crash, see $log and $crashes/"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|^#[0-9]+ +DONE" "$log" || true
  echo "   corpus: $(ls "$corpus" | wc -l) inputs"
done
exit $status
