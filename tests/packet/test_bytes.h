// Helpers shared by the packet tests: hex literals and spans.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/packet/result.h"

namespace mrfp::packet::test {

// "80 00 00 01" -> bytes; spaces ignored.
inline std::vector<std::uint8_t> hex(std::string_view text) {
  std::vector<std::uint8_t> bytes;
  int high = -1;
  for (const char c : text) {
    int nibble;
    if (c >= '0' && c <= '9') nibble = c - '0';
    else if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
    else continue;
    if (high < 0) {
      high = nibble;
    } else {
      bytes.push_back(static_cast<std::uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  return bytes;
}

inline std::span<const std::uint8_t> view(const std::vector<std::uint8_t>& bytes) {
  return {bytes.data(), bytes.size()};
}

}  // namespace mrfp::packet::test

namespace mrfp::packet {
// GoogleTest prints errors by name.
inline void PrintTo(ParseError error, std::ostream* out) { *out << to_string(error); }
inline void PrintTo(BuildError error, std::ostream* out) { *out << to_string(error); }
}  // namespace mrfp::packet
