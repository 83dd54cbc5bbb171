// ITU-T G.711 per its Tables 1a (A-law) and 2a (mu-law): eight segments of
// sixteen steps each, the step doubling from one segment to the next. Both
// directions are table lookups; the tables are built at compile time from the
// segment rules, so the code below is the whole specification.
#include "g711.h"

#include <array>
#include <bit>
#include <cstddef>

namespace mrfp::mixer::g711 {
namespace {

// mu-law works on a 14-bit signed linear value (the 16-bit sample >> 2).
// Negative values use their ones' complement so that -1 maps to magnitude 0
// (G.711 has a "negative zero" code word for each law).
constexpr std::uint8_t ulaw_from_14bit(int value14) {
  const bool negative = value14 < 0;
  int magnitude = negative ? ~value14 : value14;  // 0..8191
  magnitude += 33;                                 // G.711 mu-law bias (in 14-bit units)
  if (magnitude > 0x1FFF) magnitude = 0x1FFF;
  // After the bias the magnitude is >= 33, so its top bit is bit 5..12: segment 0..7.
  const int segment = std::bit_width(static_cast<unsigned>(magnitude)) - 6;
  const int step = (magnitude >> (segment + 1)) & 0x0F;
  // mu-law sends the magnitude bits inverted and the sign bit as 1 for positive.
  const int code = (segment << 4) | step | (negative ? 0x80 : 0x00);
  return static_cast<std::uint8_t>(~code);
}

constexpr std::int16_t ulaw_to_linear(std::uint8_t code_word) {
  const int code = static_cast<std::uint8_t>(~code_word);
  const int segment = (code >> 4) & 0x07;
  const int step = code & 0x0F;
  // Decision-interval midpoint, in 16-bit scale: ((2*step + 33) << segment) - 33, times 4.
  const int magnitude = (((step << 3) + 0x84) << segment) - 0x84;
  return static_cast<std::int16_t>((code_word & 0x80) ? magnitude : -magnitude);
}

// A-law works on a 13-bit signed linear value (the 16-bit sample >> 3).
constexpr std::uint8_t alaw_from_13bit(int value13) {
  const bool negative = value13 < 0;
  const int magnitude = negative ? ~value13 : value13;  // 0..4095
  // Segments 0 and 1 share a step of 2; from there each segment doubles it.
  const int segment = magnitude < 32 ? 0 : std::bit_width(static_cast<unsigned>(magnitude)) - 5;
  const int step = segment == 0 ? (magnitude >> 1) & 0x0F : (magnitude >> segment) & 0x0F;
  // A-law sends the sign bit as 1 for positive and inverts the even bits.
  const int code = (segment << 4) | step | (negative ? 0x00 : 0x80);
  return static_cast<std::uint8_t>(code ^ 0x55);
}

constexpr std::int16_t alaw_to_linear(std::uint8_t code_word) {
  const int code = code_word ^ 0x55;
  const int segment = (code >> 4) & 0x07;
  const int step = code & 0x0F;
  // Interval midpoint in 16-bit scale: segment 0 is linear, the others carry
  // the implicit leading one (0x100 at step resolution 16) and double per segment.
  const int magnitude = segment == 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (segment - 1);
  return static_cast<std::int16_t>((code & 0x80) ? magnitude : -magnitude);
}

template <typename Fn>
constexpr std::array<std::int16_t, 256> make_decode_table(Fn decode) {
  std::array<std::int16_t, 256> table{};
  for (std::size_t code = 0; code < table.size(); ++code) table[code] = decode(static_cast<std::uint8_t>(code));
  return table;
}

// Encode tables are indexed by the sample's top 14 (mu) or 13 (A) bits taken as
// an unsigned index, i.e. two's complement wraps negatives into the upper half.
constexpr std::array<std::uint8_t, 1u << 14> make_ulaw_encode_table() {
  std::array<std::uint8_t, 1u << 14> table{};
  for (int index = 0; index < (1 << 14); ++index) {
    const int value14 = index < (1 << 13) ? index : index - (1 << 14);
    table[static_cast<std::size_t>(index)] = ulaw_from_14bit(value14);
  }
  return table;
}

constexpr std::array<std::uint8_t, 1u << 13> make_alaw_encode_table() {
  std::array<std::uint8_t, 1u << 13> table{};
  for (int index = 0; index < (1 << 13); ++index) {
    const int value13 = index < (1 << 12) ? index : index - (1 << 13);
    table[static_cast<std::size_t>(index)] = alaw_from_13bit(value13);
  }
  return table;
}

constexpr auto kUlawDecode = make_decode_table(ulaw_to_linear);
constexpr auto kAlawDecode = make_decode_table(alaw_to_linear);
constexpr auto kUlawEncode = make_ulaw_encode_table();
constexpr auto kAlawEncode = make_alaw_encode_table();

static_assert(kUlawDecode[0xFF] == 0 && kUlawDecode[0x80] == 32124 && kUlawDecode[0x00] == -32124);
static_assert(kAlawDecode[0xD5] == 8 && kAlawDecode[0xAA] == 32256 && kAlawDecode[0x2A] == -32256);

std::size_t ulaw_index(std::int16_t sample) {
  return static_cast<std::size_t>(static_cast<std::uint16_t>(sample) >> 2);
}
std::size_t alaw_index(std::int16_t sample) {
  return static_cast<std::size_t>(static_cast<std::uint16_t>(sample) >> 3);
}

}  // namespace

std::uint8_t encode_ulaw(std::int16_t sample) { return kUlawEncode[ulaw_index(sample)]; }
std::int16_t decode_ulaw(std::uint8_t code) { return kUlawDecode[code]; }
std::uint8_t encode_alaw(std::int16_t sample) { return kAlawEncode[alaw_index(sample)]; }
std::int16_t decode_alaw(std::uint8_t code) { return kAlawDecode[code]; }

void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = kUlawEncode[ulaw_index(in[i])];
}
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = kUlawDecode[in[i]];
}
void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = kAlawEncode[alaw_index(in[i])];
}
void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = kAlawDecode[in[i]];
}

}  // namespace mrfp::mixer::g711
