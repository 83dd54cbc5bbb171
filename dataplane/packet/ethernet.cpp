#include "dataplane/packet/ethernet.h"

#include <algorithm>

#include "dataplane/packet/bytes.h"

namespace mrfp::packet {

namespace {
bool is_vlan_tag(std::uint16_t type) {
  return type == ether_type::kVlan || type == ether_type::kQinQ;
}
}  // namespace

ParseResult<EthernetFrame> parse_ethernet(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderLength) return ParseError::Truncated;
  EthernetFrame parsed;
  std::copy_n(frame.data(), 6, parsed.destination.begin());
  std::copy_n(frame.data() + 6, 6, parsed.source.begin());
  std::size_t offset = 12;
  std::uint16_t type = load_be16(frame.data() + offset);
  while (is_vlan_tag(type)) {
    if (parsed.vlan_tag_count == 2) return ParseError::UnsupportedEtherType;
    // Tag: TPID (already read) + TCI, then the next EtherType.
    if (frame.size() < offset + kVlanTagLength + 2) return ParseError::Truncated;
    const std::uint16_t tci = load_be16(frame.data() + offset + 2);
    if (parsed.vlan_tag_count == 0) {
      parsed.outer_vlan_tci = tci;
    } else {
      parsed.inner_vlan_tci = tci;
    }
    ++parsed.vlan_tag_count;
    offset += kVlanTagLength;
    type = load_be16(frame.data() + offset);
  }
  // IEEE 802.3: values below 0x0600 are a length, not an EtherType (no LLC here).
  if (type < 0x0600) return ParseError::UnsupportedEtherType;
  parsed.ether_type = type;
  parsed.header_length = offset + 2;
  parsed.payload = frame.subspan(parsed.header_length);
  return parsed;
}

BuildResult build_ethernet_header(std::span<std::uint8_t> out, const EthernetHeaderFields& fields) {
  const std::size_t length = kEthernetHeaderLength + (fields.vlan_tagged ? kVlanTagLength : 0);
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);
  std::copy(fields.destination.begin(), fields.destination.end(), out.data());
  std::copy(fields.source.begin(), fields.source.end(), out.data() + 6);
  std::size_t offset = 12;
  if (fields.vlan_tagged) {
    store_be16(out.data() + offset, ether_type::kVlan);
    store_be16(out.data() + offset + 2, fields.vlan_tci);
    offset += kVlanTagLength;
  }
  store_be16(out.data() + offset, fields.ether_type);
  return BuildResult::written(length);
}

}  // namespace mrfp::packet
