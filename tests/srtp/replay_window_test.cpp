// The replay window and index estimation alone (RFC 3711 §3.3.1, §3.3.2,
// Appendix A), as libsrtp tests its rdbx.
#include "dataplane/srtp/replay_window.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace mrfp::srtp {
namespace {

TEST(ReplayWindow, FirstPacketIsFreshAndThenReplayed) {
  ReplayWindow window(64);
  EXPECT_EQ(window.check(1000), ReplayCheck::Fresh);
  window.add(1000);
  EXPECT_EQ(window.check(1000), ReplayCheck::Replayed);
  EXPECT_EQ(window.check(1001), ReplayCheck::Fresh);
  EXPECT_EQ(window.check(999), ReplayCheck::Fresh);
}

TEST(ReplayWindow, ReorderedInsideWindowAcceptedOnce) {
  ReplayWindow window(128);
  window.add(500);
  for (std::uint64_t late = 499; late > 500 - 128; --late) {
    EXPECT_EQ(window.check(late), ReplayCheck::Fresh) << late;
    window.add(late);
    EXPECT_EQ(window.check(late), ReplayCheck::Replayed) << late;
  }
  EXPECT_EQ(window.check(500 - 128), ReplayCheck::TooOld);
}

TEST(ReplayWindow, SizesAreClampedAndRounded) {
  EXPECT_EQ(ReplayWindow(1).size(), 64u);
  EXPECT_EQ(ReplayWindow(65).size(), 128u);
  EXPECT_EQ(ReplayWindow(1024).size(), 1024u);
  EXPECT_EQ(ReplayWindow(5000).size(), 1024u);
}

TEST(ReplayWindow, EdgeOfWindowForEverySize) {
  for (std::uint32_t size = 64; size <= 1024; size += 64) {
    ReplayWindow window(size);
    window.add(10000);
    EXPECT_EQ(window.check(10000 - size + 1), ReplayCheck::Fresh) << size;
    EXPECT_EQ(window.check(10000 - size), ReplayCheck::TooOld) << size;
  }
}

TEST(ReplayWindow, BigJumpForgetsEverything) {
  ReplayWindow window(64);
  for (std::uint64_t i = 0; i < 64; ++i) window.add(i);
  window.add(1000);
  EXPECT_EQ(window.check(999), ReplayCheck::Fresh);
  EXPECT_EQ(window.check(1000 - 63), ReplayCheck::Fresh);
  EXPECT_EQ(window.check(63), ReplayCheck::TooOld);
}

// The window against a model (a std::set and the rule of §3.3.2), random
// arrivals with reordering and duplicates.
TEST(ReplayWindow, MatchesModelUnderRandomTraffic) {
  std::mt19937 random(7);
  for (std::uint32_t size : {64u, 128u, 512u, 1024u}) {
    ReplayWindow window(size);
    std::set<std::uint64_t> seen;
    std::uint64_t highest = 0;
    bool any = false;
    std::uint64_t next = 1u << 20;
    for (int step = 0; step < 20000; ++step) {
      const std::uint64_t index = next - (random() % (size + 50)) + (random() % 3);
      next += random() % 3;
      ReplayCheck expected = ReplayCheck::Fresh;
      if (any && index <= highest) {
        if (highest - index >= size) expected = ReplayCheck::TooOld;
        else if (seen.count(index)) expected = ReplayCheck::Replayed;
      }
      ASSERT_EQ(window.check(index), expected) << "size " << size << " step " << step;
      if (expected == ReplayCheck::Fresh) {
        window.add(index);
        seen.insert(index);
        if (!any || index > highest) highest = index;
        any = true;
      }
    }
  }
}

// RFC 3711 §3.3.1 / Appendix A.
TEST(IndexEstimation, SameRolloverWhenClose) {
  EXPECT_EQ(estimate_srtp_index(5 * 65536 + 100, 101), 5 * 65536 + 101);
  EXPECT_EQ(estimate_srtp_index(5 * 65536 + 100, 50), 5 * 65536 + 50);
}

TEST(IndexEstimation, WrapForwardIncrementsRoc) {
  EXPECT_EQ(estimate_srtp_index(5 * 65536 + 65535, 0), 6 * 65536 + 0);
  EXPECT_EQ(estimate_srtp_index(5 * 65536 + 65000, 10), 6 * 65536 + 10);
}

TEST(IndexEstimation, LatePacketFromBeforeWrapDecrementsRoc) {
  EXPECT_EQ(estimate_srtp_index(6 * 65536 + 2, 65534), 5 * 65536 + 65534);
}

TEST(IndexEstimation, NothingBeforeIndexZero) {
  EXPECT_EQ(estimate_srtp_index(3, 65530), -1);
}

TEST(IndexEstimation, ReorderingAcrossTheWrapWithTheWindow) {
  // 65533, 65534, 0, 65535, 1, then a duplicate 65535 across the wrap.
  ReplayWindow window(64);
  std::uint64_t highest = 0;
  bool started = false;
  auto receive = [&](std::uint16_t seq) {
    const std::int64_t index = started ? estimate_srtp_index(highest, seq) : seq;
    EXPECT_GE(index, 0);
    const ReplayCheck check = window.check(static_cast<std::uint64_t>(index));
    if (check == ReplayCheck::Fresh) {
      window.add(static_cast<std::uint64_t>(index));
      highest = window.highest();
      started = true;
    }
    return std::make_pair(index, check);
  };
  EXPECT_EQ(receive(65533).first, 65533);
  EXPECT_EQ(receive(65534).first, 65534);
  EXPECT_EQ(receive(0).first, 65536);
  EXPECT_EQ(receive(65535), std::make_pair(std::int64_t{65535}, ReplayCheck::Fresh));
  EXPECT_EQ(receive(1).first, 65537);
  EXPECT_EQ(receive(65535), std::make_pair(std::int64_t{65535}, ReplayCheck::Replayed));
  EXPECT_EQ(receive(0), std::make_pair(std::int64_t{65536}, ReplayCheck::Replayed));
}

}  // namespace
}  // namespace mrfp::srtp
