#include "bench/peer/sim_audio.h"

#include <algorithm>

namespace mrfp::sim {

namespace {
// Index of the highest set bit above bit 7 in a 15-bit magnitude: the segment.
int segment_of(int magnitude) {
  int segment = 0;
  for (int threshold = 0x100; segment < 7 && magnitude >= threshold; threshold <<= 1) ++segment;
  return segment;
}
}  // namespace

std::uint8_t pcmu_from_linear(std::int16_t sample) {
  constexpr int kBias = 0x84, kClip = 32635;
  int value = sample;
  const int sign = value < 0 ? 0x80 : 0;
  int magnitude = std::min(value < 0 ? -value : value, kClip) + kBias;
  const int segment = segment_of(magnitude);
  const int mantissa = (magnitude >> (segment + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (segment << 4) | mantissa));
}

std::int16_t linear_from_pcmu(std::uint8_t code) {
  const int inverted = static_cast<std::uint8_t>(~code);
  const int segment = (inverted >> 4) & 0x07;
  const int magnitude = (((inverted & 0x0F) << 3) + 0x84) << segment;
  return static_cast<std::int16_t>((inverted & 0x80) ? 0x84 - magnitude : magnitude - 0x84);
}

std::uint8_t pcma_from_linear(std::int16_t sample) {
  int value = sample >> 3;  // A-law works on 13-bit samples
  int sign = 0x80;
  if (value < 0) {
    sign = 0;
    value = -value - 1;
  }
  value = std::min(value, 0x0FFF);
  std::uint8_t code;
  if (value < 32) {
    code = static_cast<std::uint8_t>(value >> 1);
  } else {
    int segment = 1;
    while (segment < 7 && value >= (32 << segment)) ++segment;
    code = static_cast<std::uint8_t>((segment << 4) | ((value >> segment) & 0x0F));
  }
  return static_cast<std::uint8_t>((code | sign) ^ 0x55);
}

std::int16_t linear_from_pcma(std::uint8_t code) {
  const int toggled = code ^ 0x55;
  const int segment = (toggled >> 4) & 0x07;
  int magnitude = ((toggled & 0x0F) << 4) + 8;
  if (segment != 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return static_cast<std::int16_t>((toggled & 0x80) ? magnitude : -magnitude);
}

double tone_power(std::span<const std::int16_t> samples, double frequency_hz, double sample_rate_hz) {
  if (samples.empty()) return 0;
  const double coefficient = 2.0 * std::cos(2.0 * M_PI * frequency_hz / sample_rate_hz);
  double previous = 0, before_previous = 0;
  for (auto sample : samples) {
    const double current = sample / 32768.0 + coefficient * previous - before_previous;
    before_previous = previous;
    previous = current;
  }
  const double power = previous * previous + before_previous * before_previous -
                       coefficient * previous * before_previous;
  const double n = static_cast<double>(samples.size());
  return 2.0 * power / (n * n);
}

std::uint8_t audio_level_dbov(std::span<const std::int16_t> samples) {
  if (samples.empty()) return 127;
  double sum = 0;
  for (auto sample : samples) sum += (sample / 32768.0) * (sample / 32768.0);
  const double rms = std::sqrt(sum / static_cast<double>(samples.size()));
  if (rms <= 0) return 127;
  const double dbov = -20.0 * std::log10(rms);
  return static_cast<std::uint8_t>(std::clamp(std::lround(dbov), 0L, 127L));
}

}  // namespace mrfp::sim
