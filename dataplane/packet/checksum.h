// RFC 1071 Internet checksum as an accumulator, so a sum can span bytes that are
// not contiguous (a per-destination header in front of a shared payload) and the
// partial sum of a replicated payload can be computed once and copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mrfp::packet {

class InternetChecksum {
 public:
  // Adds bytes as if they followed everything added so far (odd lengths carry over).
  void add(std::span<const std::uint8_t> bytes);
  // Inline: a packet's pseudo-header is a handful of these, on every packet.
  void add_u16(std::uint16_t value) {  // a 16-bit word in host order
    if (odd_byte_pending_) return add_u16_straddling(value);
    sum_ += value;
  }
  void add_u32(std::uint32_t value) {  // two 16-bit words, high first
    if (odd_byte_pending_) {
      add_u16_straddling(static_cast<std::uint16_t>(value >> 16));
      return add_u16_straddling(static_cast<std::uint16_t>(value));
    }
    sum_ += (value >> 16) + (value & 0xFFFF);
  }

  // The ones' complement of the folded sum: the value to store in the header.
  std::uint16_t finish() const;
  // True when the bytes added already contain a correct checksum field.
  bool verifies() const { return folded() == 0xFFFF; }

 private:
  std::uint16_t folded() const;
  void add_u16_straddling(std::uint16_t value);

  std::uint64_t sum_ = 0;
  bool odd_byte_pending_ = false;  // the next byte is the low half of a word
};

// One-shot checksum of a contiguous buffer.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes);

}  // namespace mrfp::packet
