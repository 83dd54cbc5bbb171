#include "audio_level.h"

#include <cmath>

namespace mrfp::mixer {

std::uint8_t compute_audio_level(std::span<const std::int16_t> pcm) {
  if (pcm.empty()) return kSilentAudioLevel;
  std::uint64_t sum_of_squares = 0;
  for (const std::int16_t sample : pcm) {
    const auto value = static_cast<std::int64_t>(sample);
    sum_of_squares += static_cast<std::uint64_t>(value * value);
  }
  if (sum_of_squares == 0) return kSilentAudioLevel;  // RFC 6464 §3: digital silence is 127
  // RFC 6464 §3: level = -20 log10(rms / full scale), full scale 32768.
  // 20 log10(rms) = 10 log10(mean square), so no square root is needed.
  const double mean_square = static_cast<double>(sum_of_squares) / static_cast<double>(pcm.size());
  constexpr double kFullScaleSquared = 32768.0 * 32768.0;
  const double dbov = 10.0 * std::log10(mean_square / kFullScaleSquared);
  const double level = std::round(-dbov);
  if (level <= 0.0) return 0;
  if (level >= 127.0) return kSilentAudioLevel;
  return static_cast<std::uint8_t>(level);
}

}  // namespace mrfp::mixer
