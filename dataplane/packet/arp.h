// ARP over Ethernet for IPv4 (RFC 826): enough for the DPDK backend to answer
// requests for the mixer's own addresses and to learn next-hop MACs from replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/result.h"

namespace mrfp::packet {

inline constexpr std::size_t kArpLength = 28;  // Ethernet/IPv4 ARP body

enum class ArpOperation : std::uint16_t { Request = 1, Reply = 2 };

struct ArpPacket {
  ArpOperation operation = ArpOperation::Request;
  MacAddress sender_mac{};
  Ipv4Address sender_ip{};
  MacAddress target_mac{};
  Ipv4Address target_ip{};
};

// payload: the bytes after the Ethernet header. Errors: Truncated; UnsupportedArp
// when the hardware/protocol types or lengths are not Ethernet/IPv4, or the
// operation is neither request nor reply.
ParseResult<ArpPacket> parse_arp(std::span<const std::uint8_t> payload);

// Writes the 28-byte ARP body answering request with our_mac (the caller puts an
// Ethernet header addressed to request.sender_mac in front).
BuildResult build_arp_reply(std::span<std::uint8_t> out, const ArpPacket& request,
                            const MacAddress& our_mac);

// Writes any ARP body (request or reply) from its fields.
BuildResult build_arp(std::span<std::uint8_t> out, const ArpPacket& packet);

}  // namespace mrfp::packet
