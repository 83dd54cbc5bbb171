#include "fuzz/seed_packets.h"

#include <array>
#include <span>

#include "dataplane/packet/arp.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/icmp.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"
#include "dataplane/packet/rtcp.h"
#include "dataplane/packet/rtp.h"
#include "dataplane/packet/udp_frame.h"

namespace mrfp::fuzz {
namespace {

using Packet = std::vector<std::uint8_t>;
using packet::BuildResult;

const packet::MacAddress kMacA = {2, 0, 0, 0, 0, 1};
const packet::MacAddress kMacB = {2, 0, 0, 0, 0, 2};
const packet::Ipv4Address kV4A = {192, 0, 2, 1};
const packet::Ipv4Address kV4B = {198, 51, 100, 7};
const packet::Ipv6Address kV6A = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const packet::Ipv6Address kV6B = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

Packet rtp_packet(std::size_t csrc_count, std::uint8_t levels_id, std::size_t payload_length) {
  std::array<std::uint32_t, 15> csrcs{};
  std::array<std::uint8_t, 15> levels{};
  for (std::size_t i = 0; i < csrc_count; ++i) {
    csrcs[i] = 0x1000u + static_cast<std::uint32_t>(i);
    levels[i] = static_cast<std::uint8_t>(i * 9);
  }
  packet::RtpHeaderFields fields;
  fields.payload_type = 111;
  fields.sequence = 4711;
  fields.timestamp = 96000;
  fields.ssrc = 0xC0FFEE;
  fields.csrcs = std::span<const std::uint32_t>(csrcs).first(csrc_count);
  fields.mixer_levels_extension_id = levels_id;
  fields.csrc_levels = std::span<const std::uint8_t>(levels).first(csrc_count);
  Packet out(128 + payload_length);
  const BuildResult built = packet::build_rtp_header(out, fields);
  for (std::size_t i = 0; i < payload_length; ++i) out[built.length + i] = static_cast<std::uint8_t>(0xD5 + i);
  out.resize(built.length + payload_length);
  return out;
}

Packet frame(std::span<const std::uint8_t> payload, packet::IpVersion version, bool vlan) {
  packet::UdpFrameHeaderFields fields;
  fields.ethernet = {kMacB, kMacA, 0, vlan, 0x0064};
  fields.ip.version = version;
  fields.ip.source_v4 = kV4A;
  fields.ip.destination_v4 = kV4B;
  fields.ip.source_v6 = kV6A;
  fields.ip.destination_v6 = kV6B;
  fields.source_port = 20000;
  fields.destination_port = 30002;
  Packet out(128 + payload.size());
  const BuildResult built = packet::build_udp_frame_headers(out, fields, payload, true);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(built.length));
  out.resize(built.length + payload.size());
  return out;
}

Packet ethernet(std::uint16_t type, std::span<const std::uint8_t> payload) {
  Packet out(packet::kEthernetHeaderLength + payload.size());
  packet::build_ethernet_header(out, {kMacB, kMacA, type, false, 0});
  std::copy(payload.begin(), payload.end(), out.begin() + packet::kEthernetHeaderLength);
  return out;
}

std::vector<Packet> udp_frame_seeds() {
  std::vector<Packet> seeds;
  const Packet rtp = rtp_packet(2, 1, 20);
  seeds.push_back(frame(rtp, packet::IpVersion::V4, false));
  seeds.push_back(frame(rtp, packet::IpVersion::V4, true));
  seeds.push_back(frame(rtp, packet::IpVersion::V6, false));

  packet::ArpPacket request;
  request.sender_mac = kMacB;
  request.sender_ip = kV4B;
  request.target_ip = kV4A;
  std::array<std::uint8_t, packet::kArpLength> arp{};
  packet::build_arp(arp, request);
  seeds.push_back(ethernet(packet::ether_type::kArp, arp));

  // ICMP echo request over IPv4.
  const std::array<std::uint8_t, 8> ping_data = {'m', 'r', 'f', 'p', 0, 1, 2, 3};
  std::array<std::uint8_t, 16> echo{};
  packet::build_icmp_echo_reply(echo, {packet::icmp_type::kEchoRequest, 1, 2, ping_data});
  echo[0] = packet::icmp_type::kEchoRequest;
  echo[2] = echo[3] = 0;
  const std::uint16_t checksum = packet::internet_checksum(echo);
  echo[2] = static_cast<std::uint8_t>(checksum >> 8);
  echo[3] = static_cast<std::uint8_t>(checksum);
  Packet ip(20 + echo.size());
  packet::Ipv4HeaderFields v4;
  v4.source = kV4B;
  v4.destination = kV4A;
  v4.protocol = packet::ip_protocol::kIcmp;
  v4.payload_length = echo.size();
  packet::build_ipv4_header(ip, v4);
  std::copy(echo.begin(), echo.end(), ip.begin() + 20);
  seeds.push_back(ethernet(packet::ether_type::kIpv4, ip));

  // An IPv6 neighbour advertisement behind a hop-by-hop header (exercises both).
  std::array<std::uint8_t, packet::kNeighborAdvertisementLength> advert{};
  packet::build_neighbor_advertisement(advert, kV6A, kV6B, kV6A, kMacA);
  Packet ip6(40 + 8 + advert.size());
  packet::Ipv6HeaderFields v6;
  v6.source = kV6A;
  v6.destination = kV6B;
  v6.next_header = packet::ip_protocol::kHopByHop;
  v6.hop_limit = 255;
  v6.payload_length = static_cast<std::uint16_t>(8 + advert.size());
  packet::build_ipv6_header(ip6, v6);
  const std::array<std::uint8_t, 8> hop_by_hop = {packet::ip_protocol::kIcmpv6, 0, 1, 4, 0, 0, 0, 0};
  std::copy(hop_by_hop.begin(), hop_by_hop.end(), ip6.begin() + 40);
  std::copy(advert.begin(), advert.end(), ip6.begin() + 48);
  seeds.push_back(ethernet(packet::ether_type::kIpv6, ip6));
  return seeds;
}

std::vector<Packet> rtp_seeds() {
  std::vector<Packet> seeds;
  seeds.push_back(rtp_packet(0, 0, 160));
  seeds.push_back(rtp_packet(3, 5, 40));
  seeds.push_back(rtp_packet(15, 14, 8));
  // Client-to-mixer level, one-byte form; two-byte form; padded.
  seeds.push_back({0x90, 0x00, 0x12, 0x34, 0, 0, 3, 0x20, 0x11, 0x22, 0x33, 0x44,
                   0xBE, 0xDE, 0x00, 0x01, 0x10, 0x8A, 0x00, 0x00, 0xFF, 0xFF});
  seeds.push_back({0x90, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1,
                   0x10, 0x00, 0x00, 0x02, 0x01, 0x01, 0x85, 0x02, 0x00, 0x00, 0x00, 0x00, 0xCC});
  seeds.push_back({0xA0, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA, 0x00, 0x00, 0x03});
  return seeds;
}

std::vector<Packet> rtcp_seeds() {
  std::vector<Packet> seeds;
  std::array<packet::ReportBlock, 2> blocks{};
  blocks[0] = {0xDEADBEEF, 5, -2, 0x10010, 32, 0xB2C34000, 0x8000};
  blocks[1] = {0xCAFE, 0, 7, 100, 3, 0, 0};
  const std::array<std::uint32_t, 2> leaving = {0xDEADBEEF, 0xCAFE};

  Packet compound(512);
  std::size_t used = 0;
  used += packet::build_rtcp_sender_report(compound, 0x12345678, {0xE7A1B2C340000000, 123456, 100, 16000}, blocks).length;
  used += packet::build_rtcp_sdes_cname(std::span(compound).subspan(used), 0x12345678, "mixer@example.org").length;
  used += packet::build_rtcp_bye(std::span(compound).subspan(used), leaving, "conference ended").length;
  compound.resize(used);
  seeds.push_back(compound);

  Packet receiver(256);
  used = packet::build_rtcp_receiver_report(receiver, 0x99, blocks).length;
  used += packet::build_rtcp_sdes_cname(std::span(receiver).subspan(used), 0x99, "a").length;
  receiver.resize(used);
  seeds.push_back(receiver);
  // A padded BYE, and an APP packet.
  seeds.push_back({0xA1, 0xCB, 0x00, 0x02, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x04});
  seeds.push_back({0x80, 0xCC, 0x00, 0x02, 0x12, 0x34, 0x56, 0x78, 'n', 'a', 'm', 'e'});
  return seeds;
}

}  // namespace

std::vector<std::vector<std::uint8_t>> seed_packets(std::string_view target) {
  if (target == "udp_frame") return udp_frame_seeds();
  if (target == "rtp") return rtp_seeds();
  if (target == "rtcp") return rtcp_seeds();
  if (target == "srtp_unprotect") {
    // The first byte selects the mode (see srtp_unprotect_fuzz.cpp): every
    // RTP and RTCP seed in each of the eight modes.
    std::vector<Packet> seeds;
    for (std::uint8_t mode = 0; mode < 8; ++mode) {
      for (const auto& plain : (mode & 1) ? rtcp_seeds() : rtp_seeds()) {
        Packet seed{mode};
        seed.insert(seed.end(), plain.begin(), plain.end());
        seeds.push_back(std::move(seed));
      }
    }
    return seeds;
  }
  return {};
}

}  // namespace mrfp::fuzz
