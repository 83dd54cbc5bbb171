#include "dataplane/packet/ipv6.h"

#include <algorithm>

#include "dataplane/packet/bytes.h"

namespace mrfp::packet {

ParseResult<Ipv6Packet> parse_ipv6(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIpv6HeaderLength) return ParseError::Truncated;
  const std::uint8_t* header = bytes.data();
  if ((header[0] >> 4) != 6) return ParseError::BadVersion;
  const std::uint32_t first_word = load_be32(header);
  Ipv6Packet packet;
  packet.traffic_class = static_cast<std::uint8_t>(first_word >> 20);
  packet.flow_label = first_word & 0xFFFFF;
  packet.payload_length = load_be16(header + 4);
  packet.hop_limit = header[7];
  std::copy_n(header + 8, 16, packet.source.begin());
  std::copy_n(header + 24, 16, packet.destination.begin());
  if (kIpv6HeaderLength + packet.payload_length > bytes.size()) return ParseError::BadTotalLength;

  std::span<const std::uint8_t> rest = bytes.subspan(kIpv6HeaderLength, packet.payload_length);
  std::uint8_t next_header = header[6];
  for (int skipped = 0;; ++skipped) {
    switch (next_header) {
      case ip_protocol::kHopByHop:
      case ip_protocol::kIpv6Routing:
      case ip_protocol::kIpv6DestinationOptions: {
        if (skipped == kMaximumIpv6ExtensionHeaders) return ParseError::ExtensionChainTooLong;
        // RFC 8200 §4.3-4.6: Next Header, Hdr Ext Len in 8-octet units not counting the first 8.
        if (rest.size() < 8) return ParseError::Truncated;
        const std::size_t length = (static_cast<std::size_t>(rest[1]) + 1) * 8;
        if (length > rest.size()) return ParseError::BadHeaderLength;
        next_header = rest[0];
        rest = rest.subspan(length);
        continue;
      }
      case ip_protocol::kIpv6Fragment:
        return ParseError::Fragment;
      default:
        break;
    }
    break;
  }
  packet.next_header = next_header;
  packet.payload = rest;
  return packet;
}

BuildResult build_ipv6_header(std::span<std::uint8_t> out, const Ipv6HeaderFields& fields) {
  if (out.size() < kIpv6HeaderLength) return BuildResult::failed(BuildError::BufferTooSmall);
  if (fields.flow_label > 0xFFFFF) return BuildResult::failed(BuildError::BadArgument);
  std::uint8_t* header = out.data();
  store_be32(header, (6u << 28) | (std::uint32_t{fields.traffic_class} << 20) | fields.flow_label);
  store_be16(header + 4, fields.payload_length);
  header[6] = fields.next_header;
  header[7] = fields.hop_limit;
  std::copy(fields.source.begin(), fields.source.end(), header + 8);
  std::copy(fields.destination.begin(), fields.destination.end(), header + 24);
  return BuildResult::written(kIpv6HeaderLength);
}

}  // namespace mrfp::packet
