// speexdsp resampling between the conference rates: tones keep their frequency
// and level, whole frames in give whole frames out, and content above the
// target's Nyquist frequency is filtered instead of folding back (aliasing).
#include "mixer/resampler.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/mixer/goertzel.h"

namespace mrfp::mixer {
namespace {

// Runs `frames` 20 ms frames of a tone through `resampler`; returns the output
// of the last `keep` frames (the filter's start-up is left behind).
std::vector<std::int16_t> resample_tone(Resampler& resampler, double frequency_hz, double amplitude, int frames,
                                        int keep) {
  const std::size_t in_samples = resampler.input_rate_hz() / 50;
  const std::size_t out_samples = resampler.output_samples_for(in_samples);
  test::SineSource tone(frequency_hz, resampler.input_rate_hz(), amplitude);
  std::vector<std::int16_t> input(in_samples);
  std::vector<std::int16_t> output(out_samples);
  std::vector<std::int16_t> kept;
  for (int frame = 0; frame < frames; ++frame) {
    tone.fill(input);
    const ResampleResult result = resampler.process(input, output);
    EXPECT_EQ(result.status, ResamplerStatus::Ok);
    EXPECT_EQ(result.input_used, in_samples);
    EXPECT_EQ(result.output_written, out_samples);
    if (frame >= frames - keep) kept.insert(kept.end(), output.begin(), output.end());
  }
  return kept;
}

TEST(Resampler, ToneSurvives8kTo48kAndBack) {
  auto up = Resampler::create(8000, 48000);
  auto down = Resampler::create(48000, 8000);
  ASSERT_NE(up, nullptr);
  ASSERT_NE(down, nullptr);
  test::SineSource tone(1000.0, 8000.0, 10000.0);
  std::vector<std::int16_t> narrow(160);
  std::vector<std::int16_t> wide(960);
  std::vector<std::int16_t> back(160);
  std::vector<std::int16_t> wide_tail;
  std::vector<std::int16_t> back_tail;
  for (int frame = 0; frame < 10; ++frame) {
    tone.fill(narrow);
    ASSERT_EQ(up->process(narrow, wide).output_written, 960u);
    ASSERT_EQ(down->process(wide, back).output_written, 160u);
    if (frame >= 5) {
      wide_tail.insert(wide_tail.end(), wide.begin(), wide.end());
      back_tail.insert(back_tail.end(), back.begin(), back.end());
    }
  }
  EXPECT_NEAR(test::dominant_frequency(wide_tail, 48000.0, 200.0, 3800.0, 10.0), 1000.0, 10.0);
  EXPECT_NEAR(test::dominant_frequency(back_tail, 8000.0, 200.0, 3800.0, 10.0), 1000.0, 10.0);
  // Level kept within 0.5 dB each way.
  EXPECT_NEAR(test::goertzel_dbfs(wide_tail, 1000.0, 48000.0), test::goertzel_dbfs(narrow, 1000.0, 8000.0), 0.5);
  EXPECT_NEAR(test::goertzel_dbfs(back_tail, 1000.0, 8000.0), test::goertzel_dbfs(narrow, 1000.0, 8000.0), 0.5);
}

TEST(Resampler, EveryRatePairKeepsAToneAndWholeFrames) {
  const std::uint32_t rates[] = {8000, 16000, 48000};
  for (const std::uint32_t from : rates) {
    for (const std::uint32_t to : rates) {
      auto resampler = Resampler::create(from, to);
      ASSERT_NE(resampler, nullptr);
      const auto out = resample_tone(*resampler, 700.0, 8000.0, 8, 4);
      EXPECT_NEAR(test::dominant_frequency(out, to, 200.0, 3800.0, 10.0), 700.0, 10.0) << from << "->" << to;
      EXPECT_NEAR(test::goertzel_amplitude(out, 700.0, to), 8000.0, 8000.0 * 0.06) << from << "->" << to;
    }
  }
}

// A 6 kHz tone at 48 kHz cannot exist at 8 kHz (Nyquist 4 kHz). Decimating it
// naively would fold it to 8 - 6 = 2 kHz; the anti-aliasing filter must take it
// out instead.
TEST(Resampler, ToneAboveTargetNyquistIsAttenuatedNotAliased) {
  struct Case {
    std::uint32_t from;
    std::uint32_t to;
    double tone_hz;
    double alias_hz;
  };
  for (const Case c : {Case{48000, 8000, 6000.0, 2000.0}, Case{48000, 8000, 5000.0, 3000.0},
                       Case{48000, 16000, 11000.0, 5000.0}, Case{16000, 8000, 6000.0, 2000.0}}) {
    auto resampler = Resampler::create(c.from, c.to);
    ASSERT_NE(resampler, nullptr);
    const double amplitude = 16000.0;
    const auto out = resample_tone(*resampler, c.tone_hz, amplitude, 10, 5);
    const double alias_db = 20.0 * std::log10(std::max(test::goertzel_amplitude(out, c.alias_hz, c.to), 1e-3) / amplitude);
    EXPECT_LT(alias_db, -40.0) << c.from << "->" << c.to << " tone " << c.tone_hz;
    // And the output as a whole is near silent.
    double energy = 0.0;
    for (const std::int16_t s : out) energy += static_cast<double>(s) * s;
    const double rms = std::sqrt(energy / static_cast<double>(out.size()));
    EXPECT_LT(rms, amplitude / std::sqrt(2.0) / 100.0) << c.from << "->" << c.to;
  }
}

TEST(Resampler, SameRateCopies) {
  auto same = Resampler::create(8000, 8000);
  ASSERT_NE(same, nullptr);
  EXPECT_TRUE(same->is_passthrough());
  EXPECT_EQ(same->latency_output_samples(), 0u);
  std::vector<std::int16_t> in(160);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int16_t>(i * 7);
  std::vector<std::int16_t> out(160);
  EXPECT_EQ(same->process(in, out).output_written, 160u);
  EXPECT_EQ(in, out);
}

TEST(Resampler, RejectsUnsupportedRatesAndShortOutput) {
  ResamplerStatus status = ResamplerStatus::Ok;
  EXPECT_EQ(Resampler::create(44100, 48000, kDefaultResamplerQuality, &status), nullptr);
  EXPECT_EQ(status, ResamplerStatus::UnsupportedRate);
  auto up = Resampler::create(8000, 16000);
  std::vector<std::int16_t> in(160);
  std::vector<std::int16_t> too_short(200);
  EXPECT_EQ(up->process(in, too_short).status, ResamplerStatus::BufferTooSmall);
  EXPECT_GT(up->latency_output_samples(), 0u);
}

}  // namespace
}  // namespace mrfp::mixer
