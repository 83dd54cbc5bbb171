#include "dataplane/dpdk/tsc_clock.h"

#include <rte_cycles.h>

#include <algorithm>
#include <ctime>

namespace mrfp::dataplane {

namespace {

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

TscClock::TscClock(std::int64_t resync_interval_us) {
  const std::uint64_t hz = rte_get_tsc_hz();
  ns_per_tick_ = hz != 0 ? 1e9 / static_cast<double>(hz) : 1.0;
  resync_ticks_ = static_cast<std::uint64_t>(static_cast<double>(resync_interval_us) * 1000.0 / ns_per_tick_);
  start_tsc_ = anchor_tsc_ = rte_rdtsc();
  start_ns_ = anchor_ns_ = monotonic_ns();
  next_resync_tsc_ = start_tsc_ + resync_ticks_;
  last_us_ = anchor_ns_ / 1000;
}

void TscClock::resync(std::uint64_t tsc) {
  const std::int64_t ns = monotonic_ns();
  const std::uint64_t ticks = tsc - start_tsc_;
  // The rate over the clock's whole life: the longer the baseline, the smaller
  // the error of the two readings that bound it.
  if (ticks > 0 && ns > start_ns_) ns_per_tick_ = static_cast<double>(ns - start_ns_) / static_cast<double>(ticks);
  anchor_tsc_ = tsc;
  anchor_ns_ = ns;
  next_resync_tsc_ = tsc + resync_ticks_;
}

std::int64_t TscClock::now_us() {
  const std::uint64_t tsc = rte_rdtsc();
  if (tsc >= next_resync_tsc_) resync(tsc);
  const auto elapsed_ns = static_cast<std::int64_t>(static_cast<double>(tsc - anchor_tsc_) * ns_per_tick_);
  last_us_ = std::max(last_us_, (anchor_ns_ + elapsed_ns) / 1000);
  return last_us_;
}

}  // namespace mrfp::dataplane
