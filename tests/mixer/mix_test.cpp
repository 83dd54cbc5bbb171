// The mix arithmetic: exact sums, saturation at both edges, exact mix-minus.
#include "mixer/mix.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace mrfp::mixer {
namespace {

TEST(Mix, SumsAreExactInThirtyTwoBits) {
  std::array<std::int32_t, 4> bus{};
  clear_bus(bus);
  const std::array<std::int16_t, 4> a{1000, -2000, 30000, -30000};
  const std::array<std::int16_t, 4> b{234, -1, 30000, -30000};
  accumulate(bus, a);
  accumulate(bus, b);
  EXPECT_EQ(bus, (std::array<std::int32_t, 4>{1234, -2001, 60000, -60000}));
}

TEST(Mix, SaturatesAtBothEdges) {
  const std::array<std::int32_t, 6> bus{32767, 32768, 1000000, -32768, -32769, -1000000};
  std::array<std::int16_t, 6> out{};
  saturate_to_pcm16(bus, out);
  EXPECT_EQ(out, (std::array<std::int16_t, 6>{32767, 32767, 32767, -32768, -32768, -32768}));
}

TEST(Mix, MixMinusRemovesOwnVoiceExactlyEvenWhenTheFullMixClipped) {
  const std::array<std::int16_t, 3> alice{20000, -20000, 7};
  const std::array<std::int16_t, 3> bob{20000, -20000, -3};
  const std::array<std::int16_t, 3> carol{100, 200, 300};
  std::array<std::int32_t, 3> bus{};
  for (const auto& f : {alice, bob, carol}) accumulate(bus, f);

  std::array<std::int16_t, 3> full{};
  saturate_to_pcm16(bus, full);
  EXPECT_EQ(full, (std::array<std::int16_t, 3>{32767, -32768, 304}));

  std::array<std::int16_t, 3> alice_hears{};
  mix_minus(bus, alice, alice_hears);
  EXPECT_EQ(alice_hears, (std::array<std::int16_t, 3>{20100, -19800, 297}));
  std::array<std::int16_t, 3> carol_hears{};
  mix_minus(bus, carol, carol_hears);
  EXPECT_EQ(carol_hears, (std::array<std::int16_t, 3>{32767, -32768, 4}));
}

TEST(Mix, LongFramesVectorisedPathMatchesScalar) {
  // 960 samples (20 ms at 48 kHz): covers the vector body and any tail.
  constexpr std::size_t n = 963;
  std::array<std::int16_t, n> a{};
  std::array<std::int16_t, n> b{};
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<std::int16_t>((i * 977) % 65536 - 32768);
    b[i] = static_cast<std::int16_t>((i * 331) % 65536 - 32768);
  }
  std::array<std::int32_t, n> bus{};
  accumulate(bus, a);
  accumulate(bus, b);
  std::array<std::int16_t, n> minus_a{};
  mix_minus(bus, a, minus_a);
  std::array<std::int16_t, n> full{};
  saturate_to_pcm16(bus, full);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t sum = a[i] + b[i];
    ASSERT_EQ(full[i], std::clamp(sum, -32768, 32767)) << i;
    ASSERT_EQ(minus_a[i], b[i]) << i;
  }
}

}  // namespace
}  // namespace mrfp::mixer
