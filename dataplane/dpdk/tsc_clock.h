// CLOCK_MONOTONIC read from the TSC: a packet's arrival time without a clock
// read per burst. The TSC rate EAL calibrates is about 0.15% off on these
// machines (shared/dpdk.md), which would drift a 20 ms media clock by 30 µs a
// frame, so the clock is disciplined: every resync interval it reads
// CLOCK_MONOTONIC (vDSO, no system call), re-anchors there and re-estimates
// the rate over its whole life. Readings never go backwards.
#pragma once

#include <cstdint>

namespace mrfp::dataplane {

class TscClock {
 public:
  explicit TscClock(std::int64_t resync_interval_us = 100'000);

  // Microseconds on the CLOCK_MONOTONIC scale.
  std::int64_t now_us();
  // The current estimate of TSC ticks per nanosecond's inverse (for tests).
  double nanoseconds_per_tick() const { return ns_per_tick_; }

 private:
  void resync(std::uint64_t tsc);

  std::uint64_t start_tsc_ = 0;   // first anchor: the rate is measured from here
  std::int64_t start_ns_ = 0;
  std::uint64_t anchor_tsc_ = 0;  // latest anchor
  std::int64_t anchor_ns_ = 0;
  double ns_per_tick_ = 0;
  std::uint64_t resync_ticks_ = 0;
  std::uint64_t next_resync_tsc_ = 0;
  std::int64_t last_us_ = 0;
};

}  // namespace mrfp::dataplane
