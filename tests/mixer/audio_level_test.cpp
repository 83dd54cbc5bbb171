// RFC 6464 §3 levels computed from PCM.
#include "mixer/audio_level.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/mixer/goertzel.h"

namespace mrfp::mixer {
namespace {

std::vector<std::int16_t> square_wave(std::int16_t amplitude, std::size_t samples) {
  std::vector<std::int16_t> pcm(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    pcm[i] = (i / 10) % 2 == 0 ? amplitude : static_cast<std::int16_t>(-amplitude);
  }
  return pcm;
}

std::vector<std::int16_t> sine(double amplitude, std::size_t samples) {
  std::vector<std::int16_t> pcm(samples);
  test::SineSource(1000.0, 8000.0, amplitude).fill(pcm);
  return pcm;
}

TEST(AudioLevel, FullScaleSquareIsZeroDbov) { EXPECT_EQ(compute_audio_level(square_wave(32767, 160)), 0); }

TEST(AudioLevel, FullScaleSineIsThreeDbovDown) { EXPECT_EQ(compute_audio_level(sine(32767.0, 160)), 3); }

TEST(AudioLevel, TwentyDbDownSineIsTwentyThree) { EXPECT_EQ(compute_audio_level(sine(3277.0, 160)), 23); }

TEST(AudioLevel, QuietestSignalsAndSilence) {
  EXPECT_EQ(compute_audio_level(square_wave(1, 160)), 90);  // 20 log10(1/32768) = -90.3
  EXPECT_EQ(compute_audio_level(std::vector<std::int16_t>(160, 0)), kSilentAudioLevel);
  EXPECT_EQ(compute_audio_level({}), kSilentAudioLevel);
  // One non-zero sample in a 60 ms frame at 48 kHz is still above -127 dBov.
  std::vector<std::int16_t> almost_silent(2880, 0);
  almost_silent[0] = 1;
  EXPECT_EQ(compute_audio_level(almost_silent), 125);
}

TEST(AudioLevel, LevelFallsOneStepPerDecibel) {
  for (int db = 0; db <= 60; db += 6) {
    const double amplitude = 32767.0 * std::pow(10.0, -db / 20.0);
    EXPECT_EQ(compute_audio_level(sine(amplitude, 800)), 3 + db) << db;
  }
}

}  // namespace
}  // namespace mrfp::mixer
