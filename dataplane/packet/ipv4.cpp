#include "dataplane/packet/ipv4.h"

#include <algorithm>

#include "dataplane/packet/bytes.h"
#include "dataplane/packet/checksum.h"

namespace mrfp::packet {

ParseResult<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIpv4MinimumHeaderLength) return ParseError::Truncated;
  const std::uint8_t* header = bytes.data();
  if ((header[0] >> 4) != 4) return ParseError::BadVersion;
  // RFC 791 §3.1: IHL counts 32-bit words; options (IHL > 5) are skipped.
  const std::size_t header_length = static_cast<std::size_t>(header[0] & 0x0F) * 4;
  if (header_length < kIpv4MinimumHeaderLength || header_length > bytes.size()) {
    return ParseError::BadHeaderLength;
  }
  const std::uint16_t total_length = load_be16(header + 2);
  if (total_length < header_length || total_length > bytes.size()) {
    return ParseError::BadTotalLength;
  }
  if (internet_checksum(bytes.first(header_length)) != 0) return ParseError::BadChecksum;
  // RFC 791 §3.1: flags bit 2 is MF, the low 13 bits the fragment offset.
  const std::uint16_t flags_and_offset = load_be16(header + 6);
  if ((flags_and_offset & 0x2000) != 0 || (flags_and_offset & 0x1FFF) != 0) {
    return ParseError::Fragment;
  }
  Ipv4Packet packet;
  packet.header_length = static_cast<std::uint8_t>(header_length);
  packet.tos = header[1];
  packet.total_length = total_length;
  packet.identification = load_be16(header + 4);
  packet.ttl = header[8];
  packet.protocol = header[9];
  std::copy_n(header + 12, 4, packet.source.begin());
  std::copy_n(header + 16, 4, packet.destination.begin());
  packet.payload = bytes.subspan(header_length, total_length - header_length);
  return packet;
}

BuildResult build_ipv4_header(std::span<std::uint8_t> out, const Ipv4HeaderFields& fields) {
  if (out.size() < kIpv4MinimumHeaderLength) return BuildResult::failed(BuildError::BufferTooSmall);
  if (fields.payload_length > 0xFFFF - kIpv4MinimumHeaderLength) {
    return BuildResult::failed(BuildError::BadArgument);
  }
  std::uint8_t* header = out.data();
  header[0] = 0x45;  // version 4, IHL 5
  header[1] = fields.tos;
  store_be16(header + 2, static_cast<std::uint16_t>(kIpv4MinimumHeaderLength + fields.payload_length));
  store_be16(header + 4, fields.identification);
  store_be16(header + 6, 0x4000);  // DF: never fragment media (RFC 791 flags)
  header[8] = fields.ttl;
  header[9] = fields.protocol;
  store_be16(header + 10, 0);
  std::copy(fields.source.begin(), fields.source.end(), header + 12);
  std::copy(fields.destination.begin(), fields.destination.end(), header + 16);
  store_be16(header + 10, internet_checksum(out.first(kIpv4MinimumHeaderLength)));
  return BuildResult::written(kIpv4MinimumHeaderLength);
}

}  // namespace mrfp::packet
