// The flat SSRC table alone: insert, find, erase with backward shift, full.
#include "dataplane/srtp/context_table.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace mrfp::srtp {
namespace {

TEST(ContextTable, InsertFindErase) {
  ContextTable table(4, 128);
  ASSERT_NE(table.insert(10), nullptr);
  EXPECT_EQ(table.insert(10), nullptr) << "duplicate SSRC";
  ASSERT_NE(table.find(10), nullptr);
  EXPECT_EQ(table.find(10)->ssrc, 10u);
  EXPECT_EQ(table.find(10)->srtp_window.size(), 128u);
  EXPECT_EQ(table.find(11), nullptr);
  EXPECT_TRUE(table.erase(10));
  EXPECT_FALSE(table.erase(10));
  EXPECT_EQ(table.find(10), nullptr);
}

TEST(ContextTable, RefusesBeyondCapacity) {
  ContextTable table(3, 64);
  EXPECT_NE(table.insert(1), nullptr);
  EXPECT_NE(table.insert(2), nullptr);
  EXPECT_NE(table.insert(3), nullptr);
  EXPECT_EQ(table.insert(4), nullptr);
  EXPECT_TRUE(table.erase(2));
  EXPECT_NE(table.insert(4), nullptr);
}

// Random churn against a std::set: every member stays findable through
// deletions (backward shift keeps probe runs intact), non-members are not.
TEST(ContextTable, ChurnMatchesModel) {
  std::mt19937 random(3);
  ContextTable table(500, 64);
  std::set<std::uint32_t> model;
  for (int step = 0; step < 50000; ++step) {
    // A small SSRC space forces collisions and long probe runs.
    const std::uint32_t ssrc = random() % 2000;
    if (random() % 2 && model.size() < 500) {
      const bool inserted = table.insert(ssrc) != nullptr;
      ASSERT_EQ(inserted, model.insert(ssrc).second) << step;
    } else {
      ASSERT_EQ(table.erase(ssrc), model.erase(ssrc) == 1) << step;
    }
    if (step % 1000 == 0) {
      for (std::uint32_t probe = 0; probe < 2000; ++probe) {
        const StreamContext* found = table.find(probe);
        ASSERT_EQ(found != nullptr, model.count(probe) == 1) << probe;
        if (found) {
          ASSERT_EQ(found->ssrc, probe);
        }
      }
    }
  }
  EXPECT_EQ(table.size(), model.size());
}

}  // namespace
}  // namespace mrfp::srtp
