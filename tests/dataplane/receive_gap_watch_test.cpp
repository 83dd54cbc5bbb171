#include "dataplane/receive_gap_watch.h"

#include <gtest/gtest.h>

namespace mrfp::dataplane {
namespace {

TEST(ReceiveGapWatch, CountsTimeAwayFromThePollNotTimeWaitingInIt) {
  ReceiveGapWatch watch;
  watch.poll_starts(0, 50'000);  // the first poll has no gap before it
  watch.poll_returned(50'000);   // waited its 50 ms timeout inside the poll: not a gap
  watch.poll_starts(55'000, 0);
  watch.poll_returned(56'000);
  EXPECT_EQ(watch.long_gaps(), 0u);
  EXPECT_EQ(watch.longest_us(), 5'000);
}

TEST(ReceiveGapWatch, AGapLongerThanAFrameIsCountedOnce) {
  ReceiveGapWatch watch;
  watch.poll_starts(0, 0);
  watch.poll_returned(0);
  watch.poll_starts(ReceiveGapWatch::kLongGapUs, 0);  // exactly a frame: not long
  watch.poll_returned(ReceiveGapWatch::kLongGapUs);
  EXPECT_EQ(watch.long_gaps(), 0u);
  watch.poll_starts(ReceiveGapWatch::kLongGapUs + 42'000, 0);
  watch.poll_returned(ReceiveGapWatch::kLongGapUs + 42'000);
  EXPECT_EQ(watch.long_gaps(), 1u);
  EXPECT_EQ(watch.longest_us(), 42'000);
}

TEST(ReceiveGapWatch, APollThatReturnsLongAfterItsTimeoutCountsTheOvershoot) {
  // A non-blocking poll (DPDK) during which the thread did not run for 30 ms.
  ReceiveGapWatch watch;
  watch.poll_starts(0, 0);
  watch.poll_returned(30'000);
  watch.poll_starts(31'000, 1'000);
  watch.poll_returned(31'500);
  EXPECT_EQ(watch.long_gaps(), 1u);
  EXPECT_EQ(watch.longest_us(), 31'000);
}

}  // namespace
}  // namespace mrfp::dataplane
