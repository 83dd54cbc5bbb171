// How long a worker stays away from its receive queue: a tick, a command, or
// the thread not running at all (preempted, or its CPU taken by the
// hypervisor). A gap longer than a frame is what fills an RX ring: at 15,000
// G.711 participants a 16,384-slot ring lasts 22 ms. Counting the gaps tells
// a lag of the worker apart from a stall of whoever feeds it.
#pragma once

#include <algorithm>
#include <cstdint>

namespace mrfp::dataplane {

class ReceiveGapWatch {
 public:
  // One frame of the commonest packetisation (20 ms).
  static constexpr std::int64_t kLongGapUs = 20'000;

  // Call as a receive poll starts, with how long it may wait for packets, and
  // as it returns. Waiting inside the poll up to that timeout is not a gap;
  // returning later than it is (the thread was not running to return).
  void poll_starts(std::int64_t now_us, std::int64_t timeout_us) {
    if (left_us_ >= 0) {
      const std::int64_t gap = now_us - left_us_;
      longest_us_ = std::max(longest_us_, gap);
      long_gaps_ += gap > kLongGapUs;
    }
    due_back_us_ = now_us + timeout_us;
  }
  void poll_returned(std::int64_t now_us) { left_us_ = std::min(now_us, due_back_us_); }

  std::uint64_t long_gaps() const { return long_gaps_; }
  std::int64_t longest_us() const { return longest_us_; }

 private:
  std::int64_t left_us_ = -1;  // -1: not polled yet
  std::int64_t due_back_us_ = 0;
  std::int64_t longest_us_ = 0;
  std::uint64_t long_gaps_ = 0;
};

}  // namespace mrfp::dataplane
