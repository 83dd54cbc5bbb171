#include "dataplane/packet/arp.h"

#include <algorithm>

#include "dataplane/packet/bytes.h"

namespace mrfp::packet {

namespace {
constexpr std::uint16_t kHardwareEthernet = 1;
constexpr std::uint16_t kProtocolIpv4 = 0x0800;
}  // namespace

ParseResult<ArpPacket> parse_arp(std::span<const std::uint8_t> payload) {
  if (payload.size() < kArpLength) return ParseError::Truncated;
  const std::uint8_t* bytes = payload.data();
  if (load_be16(bytes) != kHardwareEthernet || load_be16(bytes + 2) != kProtocolIpv4 ||
      bytes[4] != 6 || bytes[5] != 4) {
    return ParseError::UnsupportedArp;
  }
  const std::uint16_t operation = load_be16(bytes + 6);
  if (operation != 1 && operation != 2) return ParseError::UnsupportedArp;
  ArpPacket arp;
  arp.operation = static_cast<ArpOperation>(operation);
  std::copy_n(bytes + 8, 6, arp.sender_mac.begin());
  std::copy_n(bytes + 14, 4, arp.sender_ip.begin());
  std::copy_n(bytes + 18, 6, arp.target_mac.begin());
  std::copy_n(bytes + 24, 4, arp.target_ip.begin());
  return arp;
}

BuildResult build_arp(std::span<std::uint8_t> out, const ArpPacket& packet) {
  if (out.size() < kArpLength) return BuildResult::failed(BuildError::BufferTooSmall);
  std::uint8_t* bytes = out.data();
  store_be16(bytes, kHardwareEthernet);
  store_be16(bytes + 2, kProtocolIpv4);
  bytes[4] = 6;
  bytes[5] = 4;
  store_be16(bytes + 6, static_cast<std::uint16_t>(packet.operation));
  std::copy(packet.sender_mac.begin(), packet.sender_mac.end(), bytes + 8);
  std::copy(packet.sender_ip.begin(), packet.sender_ip.end(), bytes + 14);
  std::copy(packet.target_mac.begin(), packet.target_mac.end(), bytes + 18);
  std::copy(packet.target_ip.begin(), packet.target_ip.end(), bytes + 24);
  return BuildResult::written(kArpLength);
}

BuildResult build_arp_reply(std::span<std::uint8_t> out, const ArpPacket& request,
                            const MacAddress& our_mac) {
  // RFC 826: swap sender and target, fill in our hardware address, opcode reply.
  ArpPacket reply;
  reply.operation = ArpOperation::Reply;
  reply.sender_mac = our_mac;
  reply.sender_ip = request.target_ip;
  reply.target_mac = request.sender_mac;
  reply.target_ip = request.sender_ip;
  return build_arp(out, reply);
}

}  // namespace mrfp::packet
