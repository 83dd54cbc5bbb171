// The Ethernet → IPv4/IPv6 → UDP chain in one call, for the DPDK backend: parse a
// received frame down to its UDP payload, and write the per-destination headers
// put in front of a shared (replicated) payload on transmit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/result.h"
#include "dataplane/packet/udp.h"

namespace mrfp::packet {

enum class IpVersion : std::uint8_t { V4 = 4, V6 = 6 };

// Both address families side by side, so the view stays trivially copyable.
struct IpEndpoints {
  IpVersion version = IpVersion::V4;
  Ipv4Address source_v4{}, destination_v4{};  // when version == V4
  Ipv6Address source_v6{}, destination_v6{};  // when version == V6
};

struct UdpFrame {
  EthernetFrame ethernet;
  IpEndpoints ip;
  std::uint8_t ttl_or_hop_limit = 0;
  UdpDatagram udp;
};

// Errors: those of parse_ethernet, parse_ipv4 / parse_ipv6 and parse_udp;
// UnsupportedEtherType for anything but IPv4/IPv6 (ARP is the caller's next try),
// UnsupportedProtocol for a non-UDP IP payload (ICMP likewise), BadChecksum when
// verify_udp_checksum is set and the UDP checksum is wrong.
ParseResult<UdpFrame> parse_udp_frame(std::span<const std::uint8_t> frame, bool verify_udp_checksum);

struct UdpFrameHeaderFields {
  EthernetHeaderFields ethernet;  // its ether_type is set from ip.version
  IpEndpoints ip;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint8_t ttl_or_hop_limit = 64;
  std::uint8_t tos_or_traffic_class = 0xB8;  // DSCP EF
};

// Writes Ethernet (+VLAN) + IP + UDP headers for payload at the start of out.
// The UDP checksum is computed over payload when compute_udp_checksum is set or
// the packet is IPv6 (RFC 8200 §8.1 makes it mandatory there), else left 0.
BuildResult build_udp_frame_headers(std::span<std::uint8_t> out, const UdpFrameHeaderFields& fields,
                                    std::span<const std::uint8_t> payload, bool compute_udp_checksum);

}  // namespace mrfp::packet
