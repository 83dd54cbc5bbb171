// A talker who starts while every seat is taken gets its seat a tick or two
// later. Opus predicts gains and band energies from the frames before, so a
// decoder started at that point, instead of at the talker's first active frame,
// plays the talker several dB too quiet or too loud for 100-200 ms. The
// listeners must hear the new speaker at its own level from the tick it is seated.
#include <gtest/gtest.h>

#include "conference_harness.h"

namespace mrfp::mixer::test {
namespace {

constexpr double kAmplitude = 8000;
// Within 3 dB of what the talker sent.
constexpr double kLowest = 0.7 * kAmplitude;
constexpr double kHighest = 1.4 * kAmplitude;

// The stream a participant receives in a tick's output.
const OutputFrame* frame_for(std::span<const OutputFrame> frames, ParticipantHandle listener) {
  for (const OutputFrame& f : frames) {
    for (ParticipantHandle h : f.listeners) {
      if (h == listener) return &f;
    }
  }
  return nullptr;
}

class SpeakerOnset : public ::testing::TestWithParam<double> {};

TEST_P(SpeakerOnset, TalkerWhoWaitedForASeatIsHeardAtItsOwnLevelOnceSeated) {
  const double newcomer_hz = GetParam();
  ConferenceConfig config;
  config.max_participants = 4;
  config.codecs = {Codec::Opus};
  config.max_speakers = 1;
  TestConference conf(config);
  const std::size_t holder = conf.add({.codec = Codec::Opus, .tone_hz = 440, .amplitude = kAmplitude});
  const std::size_t newcomer = conf.add({.codec = Codec::Opus});
  const std::size_t listener = conf.add({.codec = Codec::Opus});

  conf.run(50);  // the holder is seated, its tenure over
  ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(holder)));

  // The newcomer starts while the holder still talks: it waits.
  conf.set_tone(newcomer, newcomer_hz, kAmplitude);
  conf.step();
  ASSERT_FALSE(conf.mixer->is_speaker(conf.handle(newcomer)));

  // The holder stops; the newcomer takes the seat within a few ticks.
  conf.set_tone(holder, 0);
  int ticks_waited = 0;
  while (!conf.mixer->is_speaker(conf.handle(newcomer)) && ticks_waited < 5) {
    conf.step();
    ++ticks_waited;
  }
  ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(newcomer))) << "never seated";

  // Each of the first frames the listener gets with the new speaker in them.
  // A decoder started late gives a quarter of the level, or overshoots by half.
  for (int frame = 0; frame < 3; ++frame) {
    const OutputFrame* heard = frame_for(conf.step(), conf.handle(listener));
    ASSERT_NE(heard, nullptr);
    const double level = goertzel_amplitude(conf.tail(heard->stream, 20), newcomer_hz, 48000);
    EXPECT_GT(level, kLowest) << "frame " << frame << " after the seat";
    EXPECT_LT(level, kHighest) << "frame " << frame << " after the seat";
  }
}

// Tones a late-started Opus decoder plays too quietly (300, 1500 Hz) or too loudly (2550 Hz).
INSTANTIATE_TEST_SUITE_P(Tones, SpeakerOnset, ::testing::Values(300.0, 1500.0, 2550.0));

}  // namespace
}  // namespace mrfp::mixer::test
