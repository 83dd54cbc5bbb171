// The simulated participant is the yardstick of every end-to-end test, so it
// is checked first against itself over loopback and against G.711 code words.
#include "bench/peer/sim_participant.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace mrfp::sim {
namespace {

sockaddr_storage loopback(std::uint16_t port) {
  sockaddr_storage address{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

TEST(SimAudio, G711KnownCodeWords) {
  EXPECT_EQ(linear_from_pcmu(0xFF), 0);
  EXPECT_EQ(linear_from_pcmu(0x7F), 0);
  EXPECT_EQ(linear_from_pcmu(0x80), 32124);
  EXPECT_EQ(linear_from_pcmu(0x00), -32124);
  EXPECT_EQ(pcmu_from_linear(0), 0xFF);
  EXPECT_EQ(linear_from_pcma(0xD5), 8);
  EXPECT_EQ(linear_from_pcma(0x55), -8);
  EXPECT_EQ(linear_from_pcma(0xAA), 32256);
  EXPECT_EQ(pcma_from_linear(0), 0xD5);
  for (int code = 0; code < 256; ++code) {
    const auto u = static_cast<std::uint8_t>(code);
    // 0x7F is mu-law's negative zero: it decodes to 0, which encodes as 0xFF.
    if (u != 0x7F) {
      EXPECT_EQ(pcmu_from_linear(linear_from_pcmu(u)), u) << code;
    }
    EXPECT_EQ(pcma_from_linear(linear_from_pcma(u)), u) << code;
  }
}

class PeerLoopback : public ::testing::TestWithParam<std::tuple<mixer::Codec, srtp::Suite>> {};

TEST_P(PeerLoopback, ToneCrossesLibsrtpBothWays) {
  const auto [codec, suite] = GetParam();
  const auto key = make_key(suite, 7);
  ParticipantConfig a_config{.codec = codec, .payload_type = 0, .ssrc = 0x1111, .tone_hz = 700,
                             .level_ext_id = 1, .send_key = key, .receive_key = key};
  ParticipantConfig b_config = a_config;
  b_config.ssrc = 0x2222;
  b_config.tone_hz = 1100;
  SimParticipant a(a_config), b(b_config);
  a.set_mixer_endpoint(loopback(b.local_port()));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(a.send_frame(true));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  b.receive_available();
  EXPECT_EQ(b.received(), 50u);
  EXPECT_EQ(b.auth_failures(), 0u);
  EXPECT_EQ(b.lost(), 0u);
  const auto last = static_cast<std::size_t>(b.received_rate_hz() / 2);
  EXPECT_GT(b.received_tone_power(700, last), 0.01);
  EXPECT_LT(b.received_tone_power(1100, last), 0.001);
}

INSTANTIATE_TEST_SUITE_P(
    Suites, PeerLoopback,
    ::testing::Values(std::tuple{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_80},
                      std::tuple{mixer::Codec::Pcma, srtp::Suite::AesCm256HmacSha1_80},
                      std::tuple{mixer::Codec::Opus, srtp::Suite::AeadAes128Gcm},
                      std::tuple{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_32}));

}  // namespace
}  // namespace mrfp::sim
