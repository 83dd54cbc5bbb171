// Network byte order loads and stores on raw bytes. Callers check bounds first;
// these never read or write past the pointer plus the width.
#pragma once

#include <cstdint>

namespace mrfp::packet {

inline std::uint16_t load_be16(const std::uint8_t* bytes) {
  return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

inline std::uint32_t load_be24(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 16) | (std::uint32_t{bytes[1]} << 8) | bytes[2];
}

inline std::uint32_t load_be32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

inline std::uint64_t load_be64(const std::uint8_t* bytes) {
  return (std::uint64_t{load_be32(bytes)} << 32) | load_be32(bytes + 4);
}

inline void store_be16(std::uint8_t* bytes, std::uint16_t value) {
  bytes[0] = static_cast<std::uint8_t>(value >> 8);
  bytes[1] = static_cast<std::uint8_t>(value);
}

inline void store_be24(std::uint8_t* bytes, std::uint32_t value) {
  bytes[0] = static_cast<std::uint8_t>(value >> 16);
  bytes[1] = static_cast<std::uint8_t>(value >> 8);
  bytes[2] = static_cast<std::uint8_t>(value);
}

inline void store_be32(std::uint8_t* bytes, std::uint32_t value) {
  bytes[0] = static_cast<std::uint8_t>(value >> 24);
  bytes[1] = static_cast<std::uint8_t>(value >> 16);
  bytes[2] = static_cast<std::uint8_t>(value >> 8);
  bytes[3] = static_cast<std::uint8_t>(value);
}

inline void store_be64(std::uint8_t* bytes, std::uint64_t value) {
  store_be32(bytes, static_cast<std::uint32_t>(value >> 32));
  store_be32(bytes + 4, static_cast<std::uint32_t>(value));
}

}  // namespace mrfp::packet
