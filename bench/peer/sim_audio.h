// Audio helpers of the simulated participant, written independently of the
// mixer's own codec code so a bug in one is not mirrored in the other.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace mrfp::sim {

// ITU-T G.711 mu-law and A-law, from the segment/quantisation definition.
std::uint8_t pcmu_from_linear(std::int16_t sample);
std::int16_t linear_from_pcmu(std::uint8_t code);
std::uint8_t pcma_from_linear(std::int16_t sample);
std::int16_t linear_from_pcma(std::uint8_t code);

// Power of one frequency in a block of samples (Goertzel), normalised so a
// full-scale sine gives about 0.5 and silence 0.
double tone_power(std::span<const std::int16_t> samples, double frequency_hz, double sample_rate_hz);

// RFC 6464 §3: level in -dBov, 0 (loudest) .. 127 (silence).
std::uint8_t audio_level_dbov(std::span<const std::int16_t> samples);

class ToneGenerator {
 public:
  ToneGenerator(double frequency_hz, double amplitude, double sample_rate_hz)
      : step_(2.0 * M_PI * frequency_hz / sample_rate_hz), amplitude_(amplitude) {}
  void fill(std::span<std::int16_t> out) {
    for (auto& sample : out) {
      sample = static_cast<std::int16_t>(std::lround(amplitude_ * 32767.0 * std::sin(phase_)));
      phase_ = std::fmod(phase_ + step_, 2.0 * M_PI);
    }
  }

 private:
  double step_, amplitude_, phase_ = 0;
};

}  // namespace mrfp::sim
