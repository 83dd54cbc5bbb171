// End to end on the socket backend over loopback: the dataplane (workers,
// SRTP engine, mixer) against participants whose SRTP is libsrtp2's.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "bench/peer/sim_participant.h"
#include "dataplane/dataplane.h"

namespace mrfp {
namespace {

using dataplane::ConferenceSpec;
using dataplane::Dataplane;
using dataplane::DataplaneOptions;
using dataplane::ParticipantSpec;

DataplaneOptions loopback_options(dataplane::SrtpEngineKind engine) {
  DataplaneOptions options;
  options.media_address = "127.0.0.1";
  options.port_min = 31000;
  options.port_max = 39999;
  options.max_participants_per_conference = 64;
  options.srtp_engine = engine;
  return options;
}

// Paces every participant at the frame rate for `frames` frames, receiving as it goes.
void run_frames(std::vector<std::unique_ptr<sim::SimParticipant>>& participants, int frames,
                const std::function<bool(std::size_t, int)>& talking) {
  auto next = std::chrono::steady_clock::now();
  for (int frame = 0; frame < frames; ++frame) {
    for (std::size_t i = 0; i < participants.size(); ++i) participants[i]->send_frame(talking(i, frame));
    next += std::chrono::milliseconds(20);
    std::this_thread::sleep_until(next);
    for (auto& p : participants) p->receive_available();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& p : participants) p->receive_available();
}

struct Case {
  mixer::Codec codec;
  srtp::Suite suite;
  dataplane::SrtpEngineKind engine;
};

class ConferenceEndToEnd : public ::testing::TestWithParam<Case> {};

TEST_P(ConferenceEndToEnd, EachSpeakerHearsTheOthersAndNotItself) {
  const auto [codec, suite, engine] = GetParam();
  Dataplane dataplane(loopback_options(engine));
  dataplane.start();
  const auto group_key = sim::make_key(suite, 1234);
  ConferenceSpec spec;
  spec.codecs = {codec};
  spec.speakers = 3;
  spec.group_key = group_key;
  auto conference = dataplane.create_conference(spec);
  ASSERT_TRUE(conference) << conference.error().message;

  const double tones[] = {500, 900, 1400};
  const std::uint8_t payload_type = codec == mixer::Codec::Opus ? 111 : (codec == mixer::Codec::Pcma ? 8 : 0);
  std::vector<std::unique_ptr<sim::SimParticipant>> participants;
  for (int i = 0; i < 3; ++i) {
    sim::ParticipantConfig config{.codec = codec, .payload_type = payload_type,
                                  .ssrc = 0x10000u + static_cast<std::uint32_t>(i), .tone_hz = tones[i],
                                  .level_ext_id = 1, .send_key = group_key, .receive_key = group_key};
    participants.push_back(std::make_unique<sim::SimParticipant>(config));
    ParticipantSpec p;
    p.conference = conference->id;
    p.codec = codec;
    p.payload_type = payload_type;
    p.declared_ssrc = config.ssrc;
    p.audio_level_ext_id = 1;
    p.remote = dataplane::Endpoint::parse("127.0.0.1", participants.back()->local_port());
    auto added = dataplane.add_participant(p);
    ASSERT_TRUE(added) << added.error().message;
    participants.back()->set_mixer_endpoint(added->local.address);
  }
  run_frames(participants, 100, [](std::size_t, int) { return true; });

  const auto stats = dataplane.conference_stats(conference->id);
  ASSERT_TRUE(stats);
  for (std::size_t i = 0; i < participants.size(); ++i) {
    auto& p = *participants[i];
    SCOPED_TRACE("participant " + std::to_string(i));
    EXPECT_EQ(stats->participants[i].counters.drop_auth_failed, 0u);
    EXPECT_GE(p.received(), 90u);
    EXPECT_EQ(p.auth_failures(), 0u);
    EXPECT_EQ(p.lost(), 0u);
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
                      Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_32, dataplane::SrtpEngineKind::Libsrtp}));

}  // namespace
}  // namespace mrfp
