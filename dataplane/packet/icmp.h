// ICMP echo (RFC 792), ICMPv6 echo (RFC 4443 §4) and neighbour discovery
// solicitation/advertisement (RFC 4861 §4.3-4.4): enough for the DPDK backend to
// answer ping and resolve the mixer's IPv6 addresses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.h"
#include "dataplane/packet/result.h"

namespace mrfp::packet {

namespace icmp_type {
inline constexpr std::uint8_t kEchoReply = 0;
inline constexpr std::uint8_t kEchoRequest = 8;
}  // namespace icmp_type

namespace icmpv6_type {
inline constexpr std::uint8_t kEchoRequest = 128;
inline constexpr std::uint8_t kEchoReply = 129;
inline constexpr std::uint8_t kNeighborSolicitation = 135;
inline constexpr std::uint8_t kNeighborAdvertisement = 136;
}  // namespace icmpv6_type

inline constexpr std::size_t kIcmpEchoHeaderLength = 8;
inline constexpr std::size_t kNeighborAdvertisementLength = 32;  // with target link-layer option

struct IcmpEcho {
  std::uint8_t type = 0;  // request or reply, of ICMP or ICMPv6
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  std::span<const std::uint8_t> data;
};

// message: the IPv4 payload. Errors: Truncated, BadChecksum, UnsupportedIcmpType
// (anything but echo request/reply, or a non-zero code).
ParseResult<IcmpEcho> parse_icmp_echo(std::span<const std::uint8_t> message);

// Writes header + request.data as an echo reply with its checksum.
BuildResult build_icmp_echo_reply(std::span<std::uint8_t> out, const IcmpEcho& request);

struct Icmpv6Message {
  std::uint8_t type = 0;
  IcmpEcho echo;                        // for echo request/reply
  Ipv6Address target{};                 // for neighbour solicitation/advertisement
  bool has_link_layer_address = false;  // source (NS) or target (NA) link-layer option
  MacAddress link_layer_address{};
};

// message: the upper-layer payload of an IPv6 packet with next header 58; source
// and destination from its header (the checksum covers the pseudo-header).
// Errors: Truncated, BadChecksum, UnsupportedIcmpType, BadOption.
// RFC 4861 §7.1.1 also wants hop limit 255 for ND: the caller checks the IP header.
ParseResult<Icmpv6Message> parse_icmpv6(const Ipv6Address& source, const Ipv6Address& destination,
                                        std::span<const std::uint8_t> message);

// An ICMPv6 echo reply from source (us) to destination (the requester).
BuildResult build_icmpv6_echo_reply(std::span<std::uint8_t> out, const Ipv6Address& source,
                                    const Ipv6Address& destination, const IcmpEcho& request);

// A solicited neighbour advertisement (flags S and O) for target, carrying our MAC
// in a target link-layer address option; sent from source (us) to destination.
BuildResult build_neighbor_advertisement(std::span<std::uint8_t> out, const Ipv6Address& source,
                                         const Ipv6Address& destination, const Ipv6Address& target,
                                         const MacAddress& our_mac);

}  // namespace mrfp::packet
