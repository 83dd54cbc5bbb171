#include "dataplane/packet/udp.h"

#include "dataplane/packet/bytes.h"
#include "dataplane/packet/ipv4.h"

namespace mrfp::packet {

ParseResult<UdpDatagram> parse_udp(std::span<const std::uint8_t> segment) {
  if (segment.size() < kUdpHeaderLength) return ParseError::Truncated;
  UdpDatagram datagram;
  datagram.source_port = load_be16(segment.data());
  datagram.destination_port = load_be16(segment.data() + 2);
  datagram.length = load_be16(segment.data() + 4);
  datagram.checksum = load_be16(segment.data() + 6);
  if (datagram.length < kUdpHeaderLength || datagram.length > segment.size()) {
    return ParseError::BadTotalLength;
  }
  datagram.payload = segment.subspan(kUdpHeaderLength, datagram.length - kUdpHeaderLength);
  return datagram;
}

InternetChecksum udp_pseudo_header_sum(const Ipv4Address& source, const Ipv4Address& destination,
                                       std::uint16_t udp_length) {
  InternetChecksum sum;
  sum.add_u32(load_be32(source.data()));
  sum.add_u32(load_be32(destination.data()));
  sum.add_u16(ip_protocol::kUdp);
  sum.add_u16(udp_length);
  return sum;
}

InternetChecksum udp_pseudo_header_sum(const Ipv6Address& source, const Ipv6Address& destination,
                                       std::uint16_t udp_length) {
  // RFC 8200 §8.1: 32-bit upper-layer length, 24 zero bits, next header.
  InternetChecksum sum;
  sum.add(source);
  sum.add(destination);
  sum.add_u32(udp_length);
  sum.add_u32(ip_protocol::kUdp);
  return sum;
}

namespace {

template <class Address>
bool verify(const Address& source, const Address& destination,
            std::span<const std::uint8_t> segment) {
  if (segment.size() < kUdpHeaderLength || segment.size() > 0xFFFF) return false;
  InternetChecksum sum =
      udp_pseudo_header_sum(source, destination, static_cast<std::uint16_t>(segment.size()));
  sum.add(segment);
  return sum.verifies();
}

template <class Address>
std::uint16_t compute(const Address& source, const Address& destination,
                      std::span<const std::uint8_t> header, std::span<const std::uint8_t> payload) {
  InternetChecksum sum = udp_pseudo_header_sum(
      source, destination, static_cast<std::uint16_t>(header.size() + payload.size()));
  sum.add(header);
  sum.add(payload);
  const std::uint16_t checksum = sum.finish();
  return checksum == 0 ? 0xFFFF : checksum;
}

template <class Address>
BuildResult build_with_checksum(std::span<std::uint8_t> out, const UdpHeaderFields& fields,
                                const Address& source, const Address& destination,
                                std::span<const std::uint8_t> payload) {
  if (payload.size() != fields.payload_length) return BuildResult::failed(BuildError::BadArgument);
  const BuildResult header = build_udp_header(out, fields);
  if (!header) return header;
  store_be16(out.data() + 6, compute(source, destination, out.first(kUdpHeaderLength), payload));
  return header;
}

}  // namespace

bool verify_udp_checksum(const Ipv4Address& source, const Ipv4Address& destination,
                         std::span<const std::uint8_t> segment) {
  if (segment.size() >= kUdpHeaderLength && load_be16(segment.data() + 6) == 0) return true;
  return verify(source, destination, segment);
}

bool verify_udp_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                         std::span<const std::uint8_t> segment) {
  if (segment.size() >= kUdpHeaderLength && load_be16(segment.data() + 6) == 0) return false;
  return verify(source, destination, segment);
}

std::uint16_t udp_checksum(const Ipv4Address& source, const Ipv4Address& destination,
                           std::span<const std::uint8_t> header_with_zero_checksum,
                           std::span<const std::uint8_t> payload) {
  return compute(source, destination, header_with_zero_checksum, payload);
}

std::uint16_t udp_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                           std::span<const std::uint8_t> header_with_zero_checksum,
                           std::span<const std::uint8_t> payload) {
  return compute(source, destination, header_with_zero_checksum, payload);
}

BuildResult build_udp_header(std::span<std::uint8_t> out, const UdpHeaderFields& fields) {
  if (out.size() < kUdpHeaderLength) return BuildResult::failed(BuildError::BufferTooSmall);
  if (fields.payload_length > 0xFFFF - kUdpHeaderLength) return BuildResult::failed(BuildError::BadArgument);
  store_be16(out.data(), fields.source_port);
  store_be16(out.data() + 2, fields.destination_port);
  store_be16(out.data() + 4, static_cast<std::uint16_t>(kUdpHeaderLength + fields.payload_length));
  store_be16(out.data() + 6, 0);
  return BuildResult::written(kUdpHeaderLength);
}

BuildResult build_udp_header(std::span<std::uint8_t> out, const UdpHeaderFields& fields,
                             const Ipv4Address& source, const Ipv4Address& destination,
                             std::span<const std::uint8_t> payload) {
  return build_with_checksum(out, fields, source, destination, payload);
}

BuildResult build_udp_header(std::span<std::uint8_t> out, const UdpHeaderFields& fields,
                             const Ipv6Address& source, const Ipv6Address& destination,
                             std::span<const std::uint8_t> payload) {
  return build_with_checksum(out, fields, source, destination, payload);
}

}  // namespace mrfp::packet
