#include "dataplane/ssrc_registry.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "dataplane/command_queue.h"

namespace mrfp::dataplane {
namespace {

using Kind = SsrcOwner::Kind;

TEST(SsrcRegistry, DuplicateClaimNamesTheHolder) {
  SsrcRegistry registry(1, 16);
  EXPECT_FALSE(registry.claim(0x1234, {Kind::Participant, 7}));
  auto holder = registry.claim(0x1234, {Kind::Participant, 8});
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->kind, Kind::Participant);
  EXPECT_EQ(holder->id, 7u);
  registry.release(0x1234);
  EXPECT_FALSE(registry.claim(0x1234, {Kind::Participant, 8}));
}

TEST(SsrcRegistry, FreshSsrcsNeverCollideWithClaimedOnes) {
  SsrcRegistry registry(42, 5000);
  std::set<std::uint32_t> seen;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    auto ssrc = registry.claim_fresh({Kind::OutputStream, i});
    EXPECT_NE(ssrc, 0u);
    EXPECT_TRUE(seen.insert(ssrc).second);
  }
  EXPECT_EQ(registry.size(), 5000u);
  // A participant can never take an output stream's SSRC.
  auto taken = *seen.begin();
  auto holder = registry.claim(taken, {Kind::Participant, 1});
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->kind, Kind::OutputStream);
}

TEST(SsrcRegistry, YearsOfChurnKeepEveryHolderFindable) {
  // Participants and output streams come and go (SSRC replacement every 11
  // minutes per stream): erasing without tombstones must never lose a holder.
  SsrcRegistry registry(7, 300);
  std::vector<std::uint32_t> held;
  std::uint32_t next_id = 0;
  for (int round = 0; round < 20000; ++round) {
    if (held.size() < 250) {
      const std::uint32_t ssrc = registry.claim_fresh({Kind::OutputStream, next_id++});
      ASSERT_NE(ssrc, 0u);
      held.push_back(ssrc);
    } else {
      const std::size_t gone = static_cast<std::size_t>(round * 7919) % held.size();
      registry.release(held[gone]);
      held[gone] = held.back();
      held.pop_back();
    }
    if (round % 997 == 0) {
      for (std::uint32_t ssrc : held) ASSERT_TRUE(registry.owner_of(ssrc)) << "round " << round;
      ASSERT_EQ(registry.size(), held.size());
    }
  }
}

TEST(SsrcRegistry, AFullRegistryRefusesRatherThanGrows) {
  SsrcRegistry registry(3, 4);
  for (std::uint32_t i = 1; i <= 4; ++i) ASSERT_FALSE(registry.claim(i, {Kind::Participant, i}));
  const auto refused = registry.claim(99, {Kind::Participant, 99});
  ASSERT_TRUE(refused) << "no room: the claim is refused";
  EXPECT_EQ(refused->id, SsrcRegistry::kNoRoom.id);
  EXPECT_EQ(registry.claim_fresh({Kind::OutputStream, 5}), 0u);
  registry.release(2);
  EXPECT_NE(registry.claim_fresh({Kind::OutputStream, 5}), 0u);
}

TEST(CommandQueue, DrainWhileRunsOneAtLeastAndStopsWhenToldTheRestWaitInOrder) {
  CommandQueue<int, 64> queue;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(queue.post(i));
  std::vector<int> applied;
  auto apply = [&](int v) { applied.push_back(v); };
  EXPECT_EQ(queue.drain_while(apply, [] { return false; }), 1u) << "a due tick still lets one command through";
  EXPECT_EQ(queue.drain_while(apply, [&] { return applied.size() < 4; }), 3u);
  EXPECT_EQ(queue.drain(apply), 6u);
  EXPECT_EQ(applied, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(queue.drain_while(apply, [] { return true; }), 0u);
}

TEST(CommandQueue, EveryPostedCommandRunsOnceInOrderAcrossProducers) {
  CommandQueue<int, 64> queue;
  std::vector<int> applied;
  constexpr int kPerProducer = 10000;
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    while (!done.load() || applied.size() < 2 * kPerProducer) {
      queue.drain([&](int v) { applied.push_back(v); });
    }
  });
  auto produce = [&](int base) {
    for (int i = 0; i < kPerProducer; ++i) {
      while (!queue.post(base + i)) std::this_thread::yield();
    }
  };
  std::thread a(produce, 0), b(produce, 1'000'000);
  a.join();
  b.join();
  done = true;
  consumer.join();
  ASSERT_EQ(applied.size(), 2u * kPerProducer);
  int last_a = -1, last_b = 999'999;
  for (int v : applied) {
    int& last = v >= 1'000'000 ? last_b : last_a;
    EXPECT_EQ(v, last + 1);
    last = v;
  }
}

}  // namespace
}  // namespace mrfp::dataplane
