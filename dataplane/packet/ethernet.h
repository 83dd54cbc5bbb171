// Ethernet II frames with up to two VLAN tags (IEEE 802.1Q, and 802.1ad QinQ
// outside it). The FCS is not part of what a NIC or socket hands us.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/result.h"

namespace mrfp::packet {

namespace ether_type {
inline constexpr std::uint16_t kIpv4 = 0x0800;
inline constexpr std::uint16_t kArp = 0x0806;
inline constexpr std::uint16_t kVlan = 0x8100;     // IEEE 802.1Q C-tag
inline constexpr std::uint16_t kQinQ = 0x88A8;     // IEEE 802.1ad S-tag
inline constexpr std::uint16_t kIpv6 = 0x86DD;
}  // namespace ether_type

inline constexpr std::size_t kEthernetHeaderLength = 14;
inline constexpr std::size_t kVlanTagLength = 4;

struct EthernetFrame {
  MacAddress destination{};
  MacAddress source{};
  std::uint16_t ether_type = 0;     // of the payload, after any VLAN tags
  std::uint8_t vlan_tag_count = 0;  // 0, 1 or 2
  std::uint16_t outer_vlan_tci = 0; // PCP/DEI/VID of the first tag, when present
  std::uint16_t inner_vlan_tci = 0; // of the second tag (QinQ), when present
  std::size_t header_length = 0;    // 14, 18 or 22
  std::span<const std::uint8_t> payload;

  std::uint16_t outer_vlan_id() const { return outer_vlan_tci & 0x0FFF; }
};

// Errors: Truncated; UnsupportedEtherType for an 802.3 length field (< 0x0600) or
// more than two VLAN tags.
ParseResult<EthernetFrame> parse_ethernet(std::span<const std::uint8_t> frame);

struct EthernetHeaderFields {
  MacAddress destination{};
  MacAddress source{};
  std::uint16_t ether_type = 0;
  bool vlan_tagged = false;  // one 802.1Q tag carrying vlan_tci
  std::uint16_t vlan_tci = 0;
};

// Writes 14 (or 18 with a VLAN tag) bytes at the start of out.
BuildResult build_ethernet_header(std::span<std::uint8_t> out, const EthernetHeaderFields& fields);

}  // namespace mrfp::packet
