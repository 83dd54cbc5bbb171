// Goertzel tone detector for the mixer tests: the level of one frequency in a
// block of PCM (Hann window, so neighbouring tones leak little), the strongest
// frequency on a grid, and a phase-continuous sine source. Header-only, tests only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>

namespace mrfp::mixer::test {

// Amplitude, in sample units, of the sinusoid at `frequency_hz` in `pcm`:
// a full-scale sine of amplitude A reads about A.
inline double goertzel_amplitude(std::span<const std::int16_t> pcm, double frequency_hz, double rate_hz) {
  const std::size_t n = pcm.size();
  if (n < 2) return 0.0;
  const double omega = 2.0 * std::numbers::pi * frequency_hz / rate_hz;
  const double coefficient = 2.0 * std::cos(omega);
  double previous = 0.0;
  double before_previous = 0.0;
  double window_sum = 0.0;
  // The Hann window's cosine by rotation (no std::cos per sample).
  const double window_step = 2.0 * std::numbers::pi / static_cast<double>(n - 1);
  const double rotate_cos = std::cos(window_step);
  const double rotate_sin = std::sin(window_step);
  double window_cos = 1.0;
  double window_sin = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double hann = 0.5 - 0.5 * window_cos;
    const double next_cos = window_cos * rotate_cos - window_sin * rotate_sin;
    window_sin = window_sin * rotate_cos + window_cos * rotate_sin;
    window_cos = next_cos;
    window_sum += hann;
    const double current = hann * pcm[i] + coefficient * previous - before_previous;
    before_previous = previous;
    previous = current;
  }
  const double power = previous * previous + before_previous * before_previous - coefficient * previous * before_previous;
  return 2.0 * std::sqrt(std::max(power, 0.0)) / window_sum;
}

// Level in dB relative to a full-scale (32767) sine.
inline double goertzel_dbfs(std::span<const std::int16_t> pcm, double frequency_hz, double rate_hz) {
  const double amplitude = goertzel_amplitude(pcm, frequency_hz, rate_hz);
  return 20.0 * std::log10(std::max(amplitude, 1e-3) / 32767.0);
}

// The frequency in [low_hz, high_hz] (step step_hz) with the largest amplitude.
inline double dominant_frequency(std::span<const std::int16_t> pcm, double rate_hz, double low_hz, double high_hz,
                                 double step_hz) {
  double best_frequency = low_hz;
  double best_amplitude = -1.0;
  for (double f = low_hz; f <= high_hz; f += step_hz) {
    const double amplitude = goertzel_amplitude(pcm, f, rate_hz);
    if (amplitude > best_amplitude) {
      best_amplitude = amplitude;
      best_frequency = f;
    }
  }
  return best_frequency;
}

// A sine whose phase carries across calls, so frames join without a seam.
class SineSource {
 public:
  SineSource(double frequency_hz, double rate_hz, double amplitude)
      : phase_step_(2.0 * std::numbers::pi * frequency_hz / rate_hz), amplitude_(amplitude) {}

  void fill(std::span<std::int16_t> out) {
    for (auto& sample : out) {
      sample = static_cast<std::int16_t>(std::lround(amplitude_ * std::sin(phase_)));
      phase_ = std::fmod(phase_ + phase_step_, 2.0 * std::numbers::pi);
    }
  }

 private:
  double phase_step_;
  double amplitude_;
  double phase_ = 0.0;
};

}  // namespace mrfp::mixer::test
