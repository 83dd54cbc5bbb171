// IPv6 (RFC 8200): the fixed header, then hop-by-hop, routing and destination
// options extension headers skipped; a fragment header reported as
// ParseError::Fragment (RFC 8200 §4.5) so the caller drops and counts it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/ipv4.h"  // ip_protocol numbers
#include "dataplane/packet/result.h"

namespace mrfp::packet {

inline constexpr std::size_t kIpv6HeaderLength = 40;
// More than this many extension headers in a media packet is an attack, not a path.
inline constexpr int kMaximumIpv6ExtensionHeaders = 8;

struct Ipv6Packet {
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;
  std::uint16_t payload_length = 0;  // as in the header (extension headers included)
  std::uint8_t next_header = 0;      // the upper-layer protocol, after extension headers
  std::uint8_t hop_limit = 0;
  Ipv6Address source{};
  Ipv6Address destination{};
  std::span<const std::uint8_t> payload;  // upper-layer bytes, trimmed to payload_length
};

// Errors: Truncated, BadVersion, BadTotalLength (payload length beyond the bytes;
// jumbograms are not supported), Truncated or BadHeaderLength for an extension
// header beyond the payload, ExtensionChainTooLong, Fragment.
ParseResult<Ipv6Packet> parse_ipv6(std::span<const std::uint8_t> bytes);

struct Ipv6HeaderFields {
  Ipv6Address source{};
  Ipv6Address destination{};
  std::uint8_t next_header = ip_protocol::kUdp;
  std::uint8_t hop_limit = 64;
  std::uint8_t traffic_class = 0xB8;  // DSCP EF
  std::uint32_t flow_label = 0;
  std::uint16_t payload_length = 0;
};

// Writes the 40-byte fixed header.
BuildResult build_ipv6_header(std::span<std::uint8_t> out, const Ipv6HeaderFields& fields);

}  // namespace mrfp::packet
