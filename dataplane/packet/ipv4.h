// IPv4 (RFC 791): header checksum verified, options skipped, fragments reported
// as ParseError::Fragment so the caller drops and counts them (RTP never needs
// reassembly at our packet sizes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/result.h"

namespace mrfp::packet {

namespace ip_protocol {
inline constexpr std::uint8_t kHopByHop = 0;
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::uint8_t kIpv6Routing = 43;
inline constexpr std::uint8_t kIpv6Fragment = 44;
inline constexpr std::uint8_t kIcmpv6 = 58;
inline constexpr std::uint8_t kIpv6NoNextHeader = 59;
inline constexpr std::uint8_t kIpv6DestinationOptions = 60;
}  // namespace ip_protocol

inline constexpr std::size_t kIpv4MinimumHeaderLength = 20;

struct Ipv4Packet {
  std::uint8_t header_length = 0;  // bytes, 20..60
  std::uint8_t tos = 0;            // DSCP and ECN
  std::uint16_t total_length = 0;
  std::uint16_t identification = 0;
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  Ipv4Address source{};
  Ipv4Address destination{};
  std::span<const std::uint8_t> payload;  // trimmed to total_length (Ethernet padding dropped)
};

// Errors, in the order checked: Truncated, BadVersion, BadHeaderLength,
// BadTotalLength (shorter than the header or longer than the bytes), BadChecksum,
// Fragment (MF set or a non-zero offset).
ParseResult<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> bytes);

struct Ipv4HeaderFields {
  Ipv4Address source{};
  Ipv4Address destination{};
  std::uint8_t protocol = ip_protocol::kUdp;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0xB8;  // DSCP EF (RFC 3246), the usual marking for voice
  std::uint16_t identification = 0;
  std::uint16_t payload_length = 0;  // bytes after the 20-byte header
};

// Writes a 20-byte header (DF set, no options) with its checksum.
BuildResult build_ipv4_header(std::span<std::uint8_t> out, const Ipv4HeaderFields& fields);

}  // namespace mrfp::packet
