#include "dataplane/receive_gap_watch.h"

#include <gtest/gtest.h>

namespace mrfp::dataplane {
namespace {

TEST(ReceiveGapWatch, CountsTimeAwayFromThePollNotTimeWaitingInIt) {
  ReceiveGapWatch watch;
  watch.poll_starts(0);  // the first poll has no gap before it
  watch.poll_returned(50'000);  // waited 50 ms inside the poll: not a gap
  watch.poll_starts(55'000);
  watch.poll_returned(56'000);
  EXPECT_EQ(watch.long_gaps(), 0u);
  EXPECT_EQ(watch.longest_us(), 5'000);
}

TEST(ReceiveGapWatch, AGapLongerThanAFrameIsCountedOnce) {
  ReceiveGapWatch watch;
  watch.poll_returned(0);
  watch.poll_starts(ReceiveGapWatch::kLongGapUs);  // exactly a frame: not long
  watch.poll_returned(ReceiveGapWatch::kLongGapUs);
  EXPECT_EQ(watch.long_gaps(), 0u);
  watch.poll_starts(ReceiveGapWatch::kLongGapUs + 42'000);
  watch.poll_returned(ReceiveGapWatch::kLongGapUs + 42'000);
  EXPECT_EQ(watch.long_gaps(), 1u);
  EXPECT_EQ(watch.longest_us(), 42'000);
}

}  // namespace
}  // namespace mrfp::dataplane
