// Audio level of decoded PCM, in the RFC 6464 encoding, for participants whose
// packets carry no level extension (and to check those that do).
#pragma once

#include <cstdint>
#include <span>

namespace mrfp::mixer {

// RFC 6464 §3: 127 stands for -127 dBov and is what digital silence reports.
inline constexpr std::uint8_t kSilentAudioLevel = 127;

// RFC 6464 §3: the level is the RMS of the samples in dB relative to the
// overload point (dBov), i.e. full scale 32768: 0 = a full-scale square wave,
// 3 = a full-scale sine, 127 = silence. Returned as the positive number of
// -dBov, rounded and clamped to 0..127. Pure function; an empty span is silence.
std::uint8_t compute_audio_level(std::span<const std::int16_t> pcm);

}  // namespace mrfp::mixer
