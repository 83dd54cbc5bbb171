#include "dataplane/packet/checksum.h"

#include <bit>
#include <cstring>

namespace mrfp::packet {

void InternetChecksum::add(std::span<const std::uint8_t> bytes) {
  std::size_t index = 0;
  if (odd_byte_pending_ && !bytes.empty()) {
    sum_ += bytes[0];
    index = 1;
    odd_byte_pending_ = false;
  }
  // RFC 1071 §2(B) and (C): the sum is independent of byte order and may be
  // taken over wider chunks, so add 32-bit native-order chunks into 64 bits
  // (no carry is lost below 2^32 chunks), fold, and swap once at the end.
  // Two accumulators, 16 bytes a step: the adds do not wait on each other.
  std::uint64_t native = 0, other = 0;
  for (; index + 16 <= bytes.size(); index += 16) {
    std::uint64_t first, second;
    std::memcpy(&first, bytes.data() + index, 8);
    std::memcpy(&second, bytes.data() + index + 8, 8);
    native += (first & 0xFFFFFFFFu) + (first >> 32);
    other += (second & 0xFFFFFFFFu) + (second >> 32);
  }
  native += other;
  if (index + 8 <= bytes.size()) {
    std::uint64_t chunk;
    std::memcpy(&chunk, bytes.data() + index, 8);
    native += (chunk & 0xFFFFFFFFu) + (chunk >> 32);
    index += 8;
  }
  for (; index + 1 < bytes.size(); index += 2) {
    std::uint16_t word;
    std::memcpy(&word, bytes.data() + index, 2);
    native += word;
  }
  // Any 64-bit value: to 33 bits, then three folds reach 16 bits.
  native = (native & 0xFFFFFFFFu) + (native >> 32);
  native = (native & 0xFFFF) + (native >> 16);
  native = (native & 0xFFFF) + (native >> 16);
  native = (native & 0xFFFF) + (native >> 16);
  if constexpr (std::endian::native == std::endian::little) {
    native = static_cast<std::uint16_t>(native << 8 | native >> 8);
  }
  sum_ += native;
  if (index < bytes.size()) {
    sum_ += static_cast<std::uint32_t>(bytes[index]) << 8;
    odd_byte_pending_ = true;
  }
}

void InternetChecksum::add_u16_straddling(std::uint16_t value) {
  // After an odd byte the word straddles the boundary: add it bytewise.
  const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(value >> 8),
                                 static_cast<std::uint8_t>(value)};
  add(bytes);
}

std::uint16_t InternetChecksum::folded() const {
  std::uint64_t sum = sum_;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint16_t InternetChecksum::finish() const {
  return static_cast<std::uint16_t>(~folded());
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) {
  InternetChecksum checksum;
  checksum.add(bytes);
  return checksum.finish();
}

}  // namespace mrfp::packet
