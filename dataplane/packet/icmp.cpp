#include "dataplane/packet/icmp.h"

#include <algorithm>

#include "dataplane/packet/bytes.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/ipv4.h"

namespace mrfp::packet {

namespace {

constexpr std::size_t kNeighborMessageLength = 24;  // type..target, before options
constexpr std::uint8_t kOptionSourceLinkLayer = 1;
constexpr std::uint8_t kOptionTargetLinkLayer = 2;

InternetChecksum icmpv6_pseudo_header_sum(const Ipv6Address& source, const Ipv6Address& destination,
                                          std::size_t length) {
  // RFC 4443 §2.3 uses the RFC 8200 §8.1 pseudo-header with next header 58.
  InternetChecksum sum;
  sum.add(source);
  sum.add(destination);
  sum.add_u32(static_cast<std::uint32_t>(length));
  sum.add_u32(ip_protocol::kIcmpv6);
  return sum;
}

IcmpEcho read_echo(std::span<const std::uint8_t> message) {
  IcmpEcho echo;
  echo.type = message[0];
  echo.identifier = load_be16(message.data() + 4);
  echo.sequence = load_be16(message.data() + 6);
  echo.data = message.subspan(kIcmpEchoHeaderLength);
  return echo;
}

BuildResult write_echo(std::span<std::uint8_t> out, std::uint8_t type, const IcmpEcho& request) {
  const std::size_t length = kIcmpEchoHeaderLength + request.data.size();
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);
  out[0] = type;
  out[1] = 0;
  store_be16(out.data() + 2, 0);
  store_be16(out.data() + 4, request.identifier);
  store_be16(out.data() + 6, request.sequence);
  // memmove semantics: a reply may be built in place over its request.
  std::copy_backward(request.data.begin(), request.data.end(), out.begin() + static_cast<std::ptrdiff_t>(length));
  return BuildResult::written(length);
}

// RFC 4861 §4.6: options are type, length in units of 8 octets (never 0), value.
ParseError read_link_layer_option(std::span<const std::uint8_t> options, std::uint8_t wanted_type,
                                  Icmpv6Message& message) {
  while (!options.empty()) {
    if (options.size() < 2) return ParseError::BadOption;
    const std::size_t length = static_cast<std::size_t>(options[1]) * 8;
    if (length == 0 || length > options.size()) return ParseError::BadOption;
    if (options[0] == wanted_type && length >= 8) {
      message.has_link_layer_address = true;
      std::copy_n(options.data() + 2, 6, message.link_layer_address.begin());
    }
    options = options.subspan(length);
  }
  return ParseError::None;
}

}  // namespace

ParseResult<IcmpEcho> parse_icmp_echo(std::span<const std::uint8_t> message) {
  if (message.size() < kIcmpEchoHeaderLength) return ParseError::Truncated;
  if (internet_checksum(message) != 0) return ParseError::BadChecksum;
  if ((message[0] != icmp_type::kEchoRequest && message[0] != icmp_type::kEchoReply) || message[1] != 0) {
    return ParseError::UnsupportedIcmpType;
  }
  return read_echo(message);
}

BuildResult build_icmp_echo_reply(std::span<std::uint8_t> out, const IcmpEcho& request) {
  const BuildResult written = write_echo(out, icmp_type::kEchoReply, request);
  if (written) store_be16(out.data() + 2, internet_checksum(out.first(written.length)));
  return written;
}

ParseResult<Icmpv6Message> parse_icmpv6(const Ipv6Address& source, const Ipv6Address& destination,
                                        std::span<const std::uint8_t> message) {
  if (message.size() < 4) return ParseError::Truncated;
  InternetChecksum sum = icmpv6_pseudo_header_sum(source, destination, message.size());
  sum.add(message);
  if (!sum.verifies()) return ParseError::BadChecksum;
  Icmpv6Message parsed;
  parsed.type = message[0];
  if (message[1] != 0) return ParseError::UnsupportedIcmpType;
  switch (parsed.type) {
    case icmpv6_type::kEchoRequest:
    case icmpv6_type::kEchoReply:
      if (message.size() < kIcmpEchoHeaderLength) return ParseError::Truncated;
      parsed.echo = read_echo(message);
      return parsed;
    case icmpv6_type::kNeighborSolicitation:
    case icmpv6_type::kNeighborAdvertisement: {
      if (message.size() < kNeighborMessageLength) return ParseError::Truncated;
      std::copy_n(message.data() + 8, 16, parsed.target.begin());
      const std::uint8_t wanted = parsed.type == icmpv6_type::kNeighborSolicitation
                                      ? kOptionSourceLinkLayer
                                      : kOptionTargetLinkLayer;
      const ParseError option_error =
          read_link_layer_option(message.subspan(kNeighborMessageLength), wanted, parsed);
      if (option_error != ParseError::None) return option_error;
      return parsed;
    }
    default:
      return ParseError::UnsupportedIcmpType;
  }
}

BuildResult build_icmpv6_echo_reply(std::span<std::uint8_t> out, const Ipv6Address& source,
                                    const Ipv6Address& destination, const IcmpEcho& request) {
  const BuildResult written = write_echo(out, icmpv6_type::kEchoReply, request);
  if (!written) return written;
  InternetChecksum sum = icmpv6_pseudo_header_sum(source, destination, written.length);
  sum.add(out.first(written.length));
  store_be16(out.data() + 2, sum.finish());
  return written;
}

BuildResult build_neighbor_advertisement(std::span<std::uint8_t> out, const Ipv6Address& source,
                                         const Ipv6Address& destination, const Ipv6Address& target,
                                         const MacAddress& our_mac) {
  if (out.size() < kNeighborAdvertisementLength) return BuildResult::failed(BuildError::BufferTooSmall);
  std::uint8_t* bytes = out.data();
  bytes[0] = icmpv6_type::kNeighborAdvertisement;
  bytes[1] = 0;
  store_be16(bytes + 2, 0);
  store_be32(bytes + 4, 0x60000000);  // RFC 4861 §4.4: S (solicited) and O (override)
  std::copy(target.begin(), target.end(), bytes + 8);
  bytes[24] = kOptionTargetLinkLayer;
  bytes[25] = 1;  // 8 octets
  std::copy(our_mac.begin(), our_mac.end(), bytes + 26);
  InternetChecksum sum = icmpv6_pseudo_header_sum(source, destination, kNeighborAdvertisementLength);
  sum.add(out.first(kNeighborAdvertisementLength));
  store_be16(bytes + 2, sum.finish());
  return BuildResult::written(kNeighborAdvertisementLength);
}

}  // namespace mrfp::packet
