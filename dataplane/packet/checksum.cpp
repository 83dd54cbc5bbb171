#include "dataplane/packet/checksum.h"

namespace mrfp::packet {

void InternetChecksum::add(std::span<const std::uint8_t> bytes) {
  std::size_t index = 0;
  if (odd_byte_pending_ && !bytes.empty()) {
    sum_ += bytes[0];
    index = 1;
    odd_byte_pending_ = false;
  }
  for (; index + 1 < bytes.size(); index += 2) {
    sum_ += static_cast<std::uint32_t>(bytes[index] << 8) | bytes[index + 1];
  }
  if (index < bytes.size()) {
    sum_ += static_cast<std::uint32_t>(bytes[index]) << 8;
    odd_byte_pending_ = true;
  }
}

void InternetChecksum::add_u16(std::uint16_t value) {
  // A word added after an odd byte straddles the boundary: add it bytewise.
  const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(value >> 8),
                                 static_cast<std::uint8_t>(value)};
  add(bytes);
}

void InternetChecksum::add_u32(std::uint32_t value) {
  add_u16(static_cast<std::uint16_t>(value >> 16));
  add_u16(static_cast<std::uint16_t>(value));
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
