// UDP (RFC 768) with the IPv4 and IPv6 (RFC 8200 §8.1) pseudo-header checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/result.h"

namespace mrfp::packet {

inline constexpr std::size_t kUdpHeaderLength = 8;

struct UdpDatagram {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint16_t length = 0;    // header + payload, as in the header
  std::uint16_t checksum = 0;  // 0: none sent (IPv4 only)
  std::span<const std::uint8_t> payload;  // trimmed to length
};

// segment: the IP payload. Errors: Truncated; BadTotalLength when the length field
// is below 8 or beyond the bytes. Checksum not verified here: see below.
ParseResult<UdpDatagram> parse_udp(std::span<const std::uint8_t> segment);

// Pseudo-header sums (RFC 768; RFC 8200 §8.1), to which the UDP header and payload
// are added. Copy the returned accumulator to reuse a partial sum.
InternetChecksum udp_pseudo_header_sum(const Ipv4Address& source, const Ipv4Address& destination,
                                       std::uint16_t udp_length);
InternetChecksum udp_pseudo_header_sum(const Ipv6Address& source, const Ipv6Address& destination,
                                       std::uint16_t udp_length);

// segment: header + payload exactly as received (trim to the UDP length first).
// A zero checksum means "not computed" over IPv4 (accepted) and is invalid over IPv6.
bool verify_udp_checksum(const Ipv4Address& source, const Ipv4Address& destination,
                         std::span<const std::uint8_t> segment);
bool verify_udp_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                         std::span<const std::uint8_t> segment);

// The checksum to store for header + payload given the checksum field zeroed.
// Never returns 0: RFC 768 sends a computed 0 as 0xFFFF.
std::uint16_t udp_checksum(const Ipv4Address& source, const Ipv4Address& destination,
                           std::span<const std::uint8_t> header_with_zero_checksum,
                           std::span<const std::uint8_t> payload);
std::uint16_t udp_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                           std::span<const std::uint8_t> header_with_zero_checksum,
                           std::span<const std::uint8_t> payload);

struct UdpHeaderFields {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint16_t payload_length = 0;
};

// Writes the 8-byte header with checksum 0 (fill it in with udp_checksum, or leave
// it 0 over IPv4 / offload it).
BuildResult build_udp_header(std::span<std::uint8_t> out, const UdpHeaderFields& fields);
// Writes the header and its checksum over the given payload.
BuildResult build_udp_header(std::span<std::uint8_t> out, const UdpHeaderFields& fields,
                             const Ipv4Address& source, const Ipv4Address& destination,
                             std::span<const std::uint8_t> payload);
BuildResult build_udp_header(std::span<std::uint8_t> out, const UdpHeaderFields& fields,
                             const Ipv6Address& source, const Ipv6Address& destination,
                             std::span<const std::uint8_t> payload);

}  // namespace mrfp::packet
