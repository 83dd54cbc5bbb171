// Link and network addresses as raw network-order bytes: no byte-order surprises,
// compared and copied with memcpy semantics.
#pragma once

#include <array>
#include <cstdint>

namespace mrfp::packet {

using MacAddress = std::array<std::uint8_t, 6>;
using Ipv4Address = std::array<std::uint8_t, 4>;
using Ipv6Address = std::array<std::uint8_t, 16>;

inline constexpr MacAddress kBroadcastMac = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

}  // namespace mrfp::packet
