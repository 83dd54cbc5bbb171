// A run's verdict: held, failed, or void when the load generator itself fell
// behind (its own loss is not mrfpd's).
#include <gtest/gtest.h>

#include "bench/loadgen/load_run.h"

namespace mrfp::loadgen {
namespace {

// 16,384 memif slots at 15,000 listeners x 50 packets a second.
constexpr double kRingMs = 16384.0 / 750'000 * 1000;

TEST(LoadGeneratorFaults, AReceiveGapLongerThanTheRingLastsIsAFault) {
  const auto faults = load_generator_faults({.longest_receive_gap_ms = 42.5, .receive_ring_ms = kRingMs});
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_NE(faults[0].find("42.5 ms"), std::string::npos) << faults[0];
  EXPECT_NE(faults[0].find("21.8 ms"), std::string::npos) << faults[0];
}

TEST(LoadGeneratorFaults, AGapTheRingAbsorbsIsNone) {
  EXPECT_TRUE(load_generator_faults({.longest_receive_gap_ms = 15, .receive_ring_ms = kRingMs}).empty());
}

TEST(LoadGeneratorFaults, OverSocketsOnlyOwnDropsCount) {
  // No ring (the kernel buffers): a gap alone proves nothing; a full socket does.
  EXPECT_TRUE(load_generator_faults({.longest_receive_gap_ms = 500, .receive_ring_ms = 0}).empty());
  const auto faults = load_generator_faults({.receive_drops = 7});
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_NE(faults[0].find("7 datagram"), std::string::npos) << faults[0];
}

TEST(Verdict, AFailureIsVoidOnlyWhenTheLoadGeneratorFellBehind) {
  LoadResult run;
  EXPECT_EQ(run.verdict(), Verdict::held);
  run.load_generator_faults.push_back("stalled");
  EXPECT_EQ(run.verdict(), Verdict::held) << "a run that held despite a stalled load generator still held";
  run.failures.push_back("packets lost");
  EXPECT_EQ(run.verdict(), Verdict::void_run);
  run.load_generator_faults.clear();
  EXPECT_EQ(run.verdict(), Verdict::failed);
}

}  // namespace
}  // namespace mrfp::loadgen
