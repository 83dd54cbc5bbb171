// The TX backlog's bookkeeping alone (no DPDK): order, bounds, wrap-around.
#include "dataplane/dpdk/tx_backlog.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace mrfp::dataplane {
namespace {

TEST(TxBacklog, GivesFramesBackInTheOrderTheyCameAcrossTheEndOfItsStorage) {
  std::array<int, 12> frames{};
  std::vector<int*> pointers;
  for (int& frame : frames) pointers.push_back(&frame);
  TxBacklog<int> backlog(8);
  ASSERT_EQ(backlog.push({pointers.data(), 6}), 6u);
  backlog.pop(4);                                          // the ring took four
  ASSERT_EQ(backlog.push({pointers.data() + 6, 6}), 6u);   // wraps: slots 6, 7, then 0-3
  std::vector<int*> out;
  while (!backlog.empty()) {
    const std::span<int*> run = backlog.oldest();
    ASSERT_FALSE(run.empty());
    out.insert(out.end(), run.begin(), run.end());
    backlog.pop(run.size());
  }
  EXPECT_EQ(out, std::vector<int*>(pointers.begin() + 4, pointers.end()));
}

TEST(TxBacklog, TakesOnlyWhatFitsAndANoneSizedOneTakesNothing) {
  std::array<int, 10> frames{};
  std::vector<int*> pointers;
  for (int& frame : frames) pointers.push_back(&frame);
  TxBacklog<int> backlog(5);  // rounded up to 8
  EXPECT_EQ(backlog.capacity(), 8u);
  EXPECT_EQ(backlog.push(pointers), 8u);
  EXPECT_EQ(backlog.push(pointers), 0u);
  EXPECT_EQ(backlog.oldest().front(), pointers[0]);

  TxBacklog<int> none(0);
  EXPECT_EQ(none.push(pointers), 0u);
  EXPECT_TRUE(none.oldest().empty());
}

}  // namespace
}  // namespace mrfp::dataplane
