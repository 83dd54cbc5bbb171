// End to end on the socket backend over loopback: the dataplane (workers,
// SRTP engine, mixer) against participants whose SRTP is libsrtp2's.
#include <gtest/gtest.h>


#include <algorithm>
#include <mutex>

#include "e2e/conference_harness.h"

namespace mrfp {
namespace {

struct Case {
  mixer::Codec codec;
  srtp::Suite suite;
  dataplane::SrtpEngineKind engine;
  const char* host = "127.0.0.1";
};

class ConferenceEndToEnd : public ::testing::TestWithParam<Case> {};

TEST_P(ConferenceEndToEnd, EachSpeakerHearsTheOthersAndNotItself) {
  const auto [codec, suite, engine, host] = GetParam();
  dataplane::Dataplane dataplane(e2e::loopback_options(31000, 64, engine, host));
  dataplane.start();
  std::mutex events_mutex;
  std::vector<dataplane::Event> events;
  dataplane.subscribe([&](const dataplane::Event& event) {
    std::lock_guard lock(events_mutex);
    events.push_back(event);
    return true;
  });
  const auto group_key = sim::make_key(suite, 1234);
  dataplane::ConferenceSpec spec;
  spec.codecs = {codec};
  spec.speakers = 3;
  spec.group_key = group_key;
  auto conference = dataplane.create_conference(spec);
  ASSERT_TRUE(conference) << conference.error().message;

  const double tones[] = {500, 900, 1400};
  std::vector<e2e::Peer> participants;
  for (std::uint32_t i = 0; i < 3; ++i) {
    participants.push_back(e2e::add_peer(dataplane, conference->id, codec, 0x10000u + i, tones[i], group_key, 1,
                                                 true, host));
  }
  e2e::run_frames(participants, 100, [](std::size_t, int) { return true; });

  {
    std::lock_guard lock(events_mutex);
    const auto count = [&](dataplane::Event::Kind kind) {
      return std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == kind; });
    };
    EXPECT_EQ(count(dataplane::Event::Kind::Joined), 3);
    EXPECT_GE(count(dataplane::Event::Kind::SpeakerChange), 1);
    EXPECT_EQ(count(dataplane::Event::Kind::AuthFailureBurst), 0);
  }
  const auto stats = dataplane.conference_stats(conference->id);
  ASSERT_TRUE(stats);
  for (std::size_t i = 0; i < participants.size(); ++i) {
    auto& p = *participants[i].sim;
    SCOPED_TRACE("participant " + std::to_string(i));
    EXPECT_EQ(stats->participants[i].counters.drop_auth_failed, 0u);
    EXPECT_GE(p.received(), 90u);
    EXPECT_EQ(p.auth_failures(), 0u);
    EXPECT_EQ(p.lost(), 0u);
    EXPECT_GE(p.rtcp_received(), 1u) << "no SRTCP sender report decrypted under the group key";
    const auto last_second = static_cast<std::size_t>(p.received_rate_hz());
    for (std::size_t j = 0; j < participants.size(); ++j) {
      const double power = p.received_tone_power(tones[j], last_second);
      if (i == j) {
        EXPECT_LT(power, 0.002) << "hears its own tone " << tones[j];
      } else {
        EXPECT_GT(power, 0.005) << "misses tone " << tones[j];
      }
    }
  }
  dataplane.stop();
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, ConferenceEndToEnd,
    ::testing::Values(Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_80, dataplane::SrtpEngineKind::IpsecMb},
                      Case{mixer::Codec::Pcma, srtp::Suite::AeadAes128Gcm, dataplane::SrtpEngineKind::IpsecMb},
                      Case{mixer::Codec::Opus, srtp::Suite::AesCm256HmacSha1_80, dataplane::SrtpEngineKind::IpsecMb},
                      Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_32, dataplane::SrtpEngineKind::Libsrtp},
                      Case{mixer::Codec::Pcmu, srtp::Suite::AeadAes256Gcm, dataplane::SrtpEngineKind::IpsecMb, "::1"}));

}  // namespace
}  // namespace mrfp
