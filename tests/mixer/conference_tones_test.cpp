// End-to-end through the codecs: each speaker's mix-minus holds every other
// speaker's tone and not its own; the common stream holds every speaker's tone.
#include <gtest/gtest.h>

#include <vector>

#include "conference_harness.h"

namespace mrfp::mixer::test {
namespace {

constexpr double kAmplitude = 8000;
// Clearly present: at least a quarter of what was sent. Absent: 35 dB down.
constexpr double kPresent = 0.25 * kAmplitude;
constexpr double kAbsent = 0.018 * kAmplitude;

struct Case {
  const char* name;
  CodecSet codecs;
  std::vector<Codec> speakers;   // one tone each
  std::vector<Codec> listeners;  // silent
  std::uint32_t mix_rate_hz = 0;
  std::uint32_t frame_ms = 20;
};

class ConferenceTones : public ::testing::TestWithParam<Case> {};

TEST_P(ConferenceTones, MixMinusHoldsEveryOtherSpeakerAndNotItsOwn) {
  const Case& c = GetParam();
  ConferenceConfig config;
  config.max_participants = 8;
  config.codecs = c.codecs;
  config.mix_rate_hz = c.mix_rate_hz;
  config.frame_ms = c.frame_ms;
  TestConference conf(config);
  const std::vector<double> tones{440, 1000, 1700};
  std::vector<std::size_t> speakers;
  std::vector<std::size_t> listeners;
  for (std::size_t i = 0; i < c.speakers.size(); ++i) {
    speakers.push_back(conf.add({.codec = c.speakers[i], .tone_hz = tones[i], .amplitude = kAmplitude}));
  }
  for (Codec codec : c.listeners) listeners.push_back(conf.add({.codec = codec}));

  conf.run(30);

  for (std::size_t i = 0; i < speakers.size(); ++i) {
    ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(speakers[i]))) << i;
    const auto stream = OutputStreamId::mix_minus(conf.handle(speakers[i]));
    for (std::size_t j = 0; j < speakers.size(); ++j) {
      const double a = conf.amplitude(stream, tones[j]);
      if (i == j) {
        EXPECT_LT(a, kAbsent) << "speaker " << i << " hears itself";
      } else {
        EXPECT_GT(a, kPresent) << "speaker " << i << " does not hear speaker " << j;
      }
    }
  }
  // Every listener is on its group's common stream, which holds every tone.
  const auto frames = conf.step();
  for (std::size_t l : listeners) {
    const OutputFrame* common = nullptr;
    for (const OutputFrame& f : frames) {
      for (ParticipantHandle h : f.listeners) {
        if (h == conf.handle(l)) common = &f;
      }
    }
    ASSERT_NE(common, nullptr) << "listener " << l << " gets nothing";
    EXPECT_EQ(common->stream.kind, OutputStreamId::Kind::Common);
    EXPECT_EQ(common->contributors.size(), speakers.size());
    for (double hz : tones) EXPECT_GT(conf.amplitude(common->stream, hz), kPresent) << hz << " Hz";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, ConferenceTones,
    ::testing::Values(
        Case{"Pcmu8k", {Codec::Pcmu}, {Codec::Pcmu, Codec::Pcmu, Codec::Pcmu}, {Codec::Pcmu, Codec::Pcmu}},
        Case{"Pcma8k", {Codec::Pcma}, {Codec::Pcma, Codec::Pcma, Codec::Pcma}, {Codec::Pcma}},
        Case{"Opus48k", {Codec::Opus}, {Codec::Opus, Codec::Opus, Codec::Opus}, {Codec::Opus, Codec::Opus}},
        Case{"Opus16k", {Codec::Opus}, {Codec::Opus, Codec::Opus, Codec::Opus}, {Codec::Opus}, 16000},
        Case{"OpusAndPcmu48k",
             {Codec::Opus, Codec::Pcmu},
             {Codec::Opus, Codec::Pcmu, Codec::Opus},
             {Codec::Pcmu, Codec::Opus}},
        Case{"PcmaAndOpus16k",
             {Codec::Opus, Codec::Pcma},
             {Codec::Pcma, Codec::Opus, Codec::Pcma},
             {Codec::Opus, Codec::Pcma},
             16000},
        Case{"Pcmu10ms", {Codec::Pcmu}, {Codec::Pcmu, Codec::Pcmu, Codec::Pcmu}, {Codec::Pcmu}, 0, 10},
        Case{"Pcma30ms", {Codec::Pcma}, {Codec::Pcma, Codec::Pcma, Codec::Pcma}, {Codec::Pcma}, 0, 30},
        Case{"Opus60msWithPcmu",
             {Codec::Opus, Codec::Pcmu},
             {Codec::Opus, Codec::Pcmu, Codec::Opus},
             {Codec::Pcmu, Codec::Opus},
             0,
             60}),
    [](const ::testing::TestParamInfo<Case>& param) { return std::string(param.param.name); });

TEST(ConferenceTones, EveryParticipantPolicyGivesEachListenerItsOwnCorrectMix) {
  ConferenceConfig config;
  config.max_participants = 6;
  config.codecs = {Codec::Opus};
  config.policy = Policy::EveryParticipant;
  TestConference conf(config);
  const auto a = conf.add({.codec = Codec::Opus, .tone_hz = 440});
  const auto b = conf.add({.codec = Codec::Opus, .tone_hz = 1000});
  const auto quiet = conf.add({.codec = Codec::Opus});
  conf.run(30);
  const auto stream = [&](std::size_t i) { return OutputStreamId::mix_minus(conf.handle(i)); };
  EXPECT_LT(conf.amplitude(stream(a), 440), kAbsent);
  EXPECT_GT(conf.amplitude(stream(a), 1000), kPresent);
  EXPECT_GT(conf.amplitude(stream(b), 440), kPresent);
  EXPECT_LT(conf.amplitude(stream(b), 1000), kAbsent);
  EXPECT_GT(conf.amplitude(stream(quiet), 440), kPresent);
  EXPECT_GT(conf.amplitude(stream(quiet), 1000), kPresent);
}

}  // namespace
}  // namespace mrfp::mixer::test
