// The neighbour table alone: learning, RFC 1122 §2.3.2.1 rate limiting, RFC 4861
// §7.3 aging (REACHABLE for 30 s after a confirmation, then STALE and still used),
// and forgetting what nobody confirmed or asked for in 10 minutes, so that
// participants coming and going never fill it.
#include <gtest/gtest.h>

#include "dataplane/dpdk/neighbour_table.h"

namespace mrfp::dataplane::test {
namespace {

constexpr std::int64_t kSecond = 1'000'000;

TEST(NeighbourTableTest, LearnsCorrectsAndRateLimitsSolicitations) {
  NeighbourTable table(16);
  const auto a = neighbour_key({10, 0, 0, 1});
  packet::MacAddress mac{};
  EXPECT_EQ(table.find(a, mac, kSecond), NeighbourTable::Lookup::Absent);
  EXPECT_TRUE(table.may_solicit(a, 1 * kSecond, kSecond));
  EXPECT_EQ(table.find(a, mac, kSecond), NeighbourTable::Lookup::Incomplete);
  EXPECT_FALSE(table.may_solicit(a, 1'500'000, kSecond));
  EXPECT_TRUE(table.may_solicit(a, 2 * kSecond, kSecond));
  EXPECT_TRUE(table.learn(a, {1, 2, 3, 4, 5, 6}, 2 * kSecond));
  ASSERT_EQ(table.find(a, mac, 2 * kSecond), NeighbourTable::Lookup::Reachable);
  EXPECT_EQ(mac, (packet::MacAddress{1, 2, 3, 4, 5, 6}));
  table.refresh(a, {6, 5, 4, 3, 2, 1}, 3 * kSecond);
  table.find(a, mac, 3 * kSecond);
  EXPECT_EQ(mac, (packet::MacAddress{6, 5, 4, 3, 2, 1}));
  table.refresh(neighbour_key({10, 0, 0, 2}), {1, 1, 1, 1, 1, 1}, 3 * kSecond);
  EXPECT_EQ(table.size(), 1u) << "refresh never adds";
  // Fills to 3/4 and then refuses rather than degrading into a full scan.
  int learned = 0;
  for (std::uint8_t i = 0; i < 40; ++i) learned += table.learn(neighbour_key({10, 0, 1, i}), {i, 0, 0, 0, 0, 0}, 4 * kSecond);
  EXPECT_EQ(table.size(), 12u);
  EXPECT_EQ(learned, 11);
}

TEST(NeighbourTableTest, AgesFromReachableToStaleAndIsReSolicitedAtMostOncePerInterval) {
  NeighbourTable table(16);
  const auto a = neighbour_key({10, 0, 0, 1});
  const packet::MacAddress first{2, 0, 0, 0, 0, 1};
  ASSERT_TRUE(table.learn(a, first, 10 * kSecond));
  packet::MacAddress mac{};
  EXPECT_EQ(table.find(a, mac, 10 * kSecond + NeighbourTable::kReachableUs - 1), NeighbourTable::Lookup::Reachable);
  const std::int64_t later = 10 * kSecond + NeighbourTable::kReachableUs;
  mac = {};
  EXPECT_EQ(table.find(a, mac, later), NeighbourTable::Lookup::Stale);
  EXPECT_EQ(mac, first) << "RFC 4861 §7.3.3: a stale address is still used";
  EXPECT_TRUE(table.may_solicit(a, later, kSecond));
  EXPECT_FALSE(table.may_solicit(a, later + kSecond / 2, kSecond));
  EXPECT_TRUE(table.may_solicit(a, later + kSecond, kSecond));
  // The answer confirms it again.
  ASSERT_TRUE(table.learn(a, first, later + 2 * kSecond));
  EXPECT_EQ(table.find(a, mac, later + 2 * kSecond), NeighbourTable::Lookup::Reachable);
  // A frame every 20 ms keeps it reachable however long the call lasts.
  std::int64_t now = later + 2 * kSecond;
  for (int frame = 0; frame < 10'000; ++frame, now += 20'000) table.learn(a, first, now);
  EXPECT_EQ(table.find(a, mac, now), NeighbourTable::Lookup::Reachable);
}

TEST(NeighbourTableTest, ForgetsWhatNobodyConfirmedOrAskedForWhenRoomIsNeeded) {
  NeighbourTable table(16);  // 12 entries at most
  // A day of participants coming and going: each seen for a while, then gone.
  std::int64_t now = kSecond;
  std::uint64_t refused = 0;
  for (int participant = 0; participant < 200; ++participant) {
    const auto address = neighbour_key({10, 1, static_cast<std::uint8_t>(participant / 256),
                                        static_cast<std::uint8_t>(participant % 256)});
    refused += !table.learn(address, {2, 0, 0, 0, 0, static_cast<std::uint8_t>(participant)}, now);
    now += NeighbourTable::kForgetUs / 10;  // ten arrive per forget interval
  }
  EXPECT_EQ(refused, 0u) << "old entries make room";
  EXPECT_GT(table.forgotten(), 150u);
  EXPECT_LE(table.size(), 12u);
  // The most recent ones are all still there, with their own MAC (entries moved
  // back by the erasures stay findable).
  packet::MacAddress mac{};
  for (int participant = 195; participant < 200; ++participant) {
    const auto address = neighbour_key({10, 1, 0, static_cast<std::uint8_t>(participant)});
    ASSERT_NE(table.find(address, mac, now), NeighbourTable::Lookup::Absent) << participant;
    EXPECT_EQ(mac[5], participant);
  }
}

TEST(NeighbourTableTest, KeepsWhatIsInUseAndWhatWasConfiguredWhenFull) {
  NeighbourTable table(16);
  const auto gateway = neighbour_key({10, 0, 0, 254});
  ASSERT_TRUE(table.add_permanent(gateway, {2, 0, 0, 0, 0, 0xFE}));
  // Eleven neighbours in use: confirmed recently.
  const std::int64_t now = 3 * NeighbourTable::kForgetUs;
  for (std::uint8_t i = 0; i < 11; ++i) ASSERT_TRUE(table.learn(neighbour_key({10, 0, 2, i}), {2, 0, 0, 0, 2, i}, now));
  EXPECT_FALSE(table.learn(neighbour_key({10, 0, 3, 1}), {2, 0, 0, 0, 3, 1}, now + kSecond))
      << "full of live entries: a newcomer is refused, nobody in use is evicted";
  EXPECT_EQ(table.forgotten(), 0u);
  packet::MacAddress mac{};
  EXPECT_EQ(table.find(gateway, mac, now + 10 * NeighbourTable::kForgetUs), NeighbourTable::Lookup::Reachable)
      << "configured entries never age";
  EXPECT_TRUE(table.learn(gateway, {9, 9, 9, 9, 9, 9}, now));
  table.find(gateway, mac, now);
  EXPECT_EQ(mac, (packet::MacAddress{2, 0, 0, 0, 0, 0xFE})) << "nor are they overridden by ARP";
  // Ten minutes later the eleven are forgettable and the newcomer fits.
  EXPECT_TRUE(table.learn(neighbour_key({10, 0, 3, 1}), {2, 0, 0, 0, 3, 1}, now + NeighbourTable::kForgetUs));
  EXPECT_EQ(table.forgotten(), 11u);
  EXPECT_EQ(table.find(gateway, mac, now + NeighbourTable::kForgetUs), NeighbourTable::Lookup::Reachable);
}

}  // namespace
}  // namespace mrfp::dataplane::test
