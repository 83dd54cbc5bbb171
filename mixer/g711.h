// ITU-T G.711 companding, table driven: mu-law (PT 0) and A-law (PT 8) at 8 kHz.
// The 16-bit linear side is scaled as in ITU-T G.191 (14-bit mu-law / 13-bit
// A-law magnitudes, left aligned), so mu-law 0xFF <-> 0 and A-law 0xD5 <-> 8.
#pragma once

#include <cstdint>
#include <span>

namespace mrfp::mixer::g711 {

std::uint8_t encode_ulaw(std::int16_t sample);
std::int16_t decode_ulaw(std::uint8_t code);
std::uint8_t encode_alaw(std::int16_t sample);
std::int16_t decode_alaw(std::uint8_t code);

// Whole frames; `out` must be at least as long as `in`.
void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);
void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);

}  // namespace mrfp::mixer::g711
