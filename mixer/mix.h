// The arithmetic of a conference mix: 16-bit PCM frames are summed into a
// 32-bit bus (no overflow before 65,536 speakers), and every output is narrowed
// back to 16 bits by saturation, so a loud mix clips at full scale instead of
// wrapping around into noise.
//
// The mix-minus for a speaker is the full bus minus that speaker's own frame:
// one subtraction per sample instead of re-summing every other speaker, so K
// speakers cost K additions plus K subtractions, not K*(K-1) additions.
#pragma once

#include <cstdint>
#include <span>

namespace mrfp::mixer {

// bus[i] = 0 for every sample.
void clear_bus(std::span<std::int32_t> bus);

// bus[i] += frame[i]. The spans have the same length.
void accumulate(std::span<std::int32_t> bus, std::span<const std::int16_t> frame);

// out[i] = clamp(bus[i], -32768, 32767).
void saturate_to_pcm16(std::span<const std::int32_t> bus, std::span<std::int16_t> out);

// out[i] = clamp(bus[i] - own[i], -32768, 32767): what a speaker hears, the
// mix of everybody but itself (computed from the unsaturated bus, so the
// result is exact even when the full mix clipped).
void mix_minus(std::span<const std::int32_t> bus, std::span<const std::int16_t> own,
               std::span<std::int16_t> out);

}  // namespace mrfp::mixer
