// The control protocols a host on an Ethernet segment must speak so media can
// reach it and leave it: ARP (RFC 826), ICMP echo (RFC 792), ICMPv6 echo
// (RFC 4443 §4) and neighbour discovery (RFC 4861). Answers are fresh frames
// queued on the worker's TX queue with the media.
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/packet/arp.h"
#include "dataplane/packet/bytes.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/icmp.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"

namespace mrfp::dataplane {

namespace {

// IEEE 802.3 minimum frame without the FCS: shorter frames are padded with zeros.
constexpr std::size_t kMinimumFrame = 60;

bool is_unspecified(const packet::Ipv6Address& address) {
  return std::all_of(address.begin(), address.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

rte_mbuf* DpdkBackend::control_frame(const packet::MacAddress& destination, std::uint16_t ether_type,
                                     std::size_t body_length, std::uint8_t*& body) {
  rte_mbuf* frame = rte_pktmbuf_alloc(packet_pool_);
  if (unlikely(frame == nullptr)) {
    ++counters_.tx_no_mbuf;
    return nullptr;
  }
  packet::EthernetHeaderFields fields;
  fields.destination = destination;
  fields.source = addressing_.mac;
  fields.ether_type = ether_type;
  fields.vlan_tagged = addressing_.vlan_id.has_value();
  fields.vlan_tci = addressing_.vlan_id.value_or(0);
  const std::size_t header = packet::kEthernetHeaderLength + (fields.vlan_tagged ? packet::kVlanTagLength : 0);
  const std::size_t total = std::max(header + body_length, kMinimumFrame);
  auto* bytes = total <= rte_pktmbuf_tailroom(frame)
                    ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(frame, static_cast<std::uint16_t>(total)))
                    : nullptr;
  if (unlikely(bytes == nullptr)) {
    rte_pktmbuf_free(frame);
    ++counters_.tx_too_large;
    return nullptr;
  }
  std::memset(bytes + header, 0, total - header);
  packet::build_ethernet_header({bytes, header}, fields);
  body = bytes + header;
  return frame;
}

bool DpdkBackend::handle_arp(std::span<const std::uint8_t> payload, bool answer) {
  const packet::ParseResult<packet::ArpPacket> arp = packet::parse_arp(payload);
  if (unlikely(!arp)) {
    ++counters_.rx_arp_other;
    return false;
  }
  // RFC 826, "Packet Reception": merge the sender into the table when it is already
  // there; when we are the target, add it too (it is about to talk to us).
  const bool sender_known_address = arp->sender_ip != packet::Ipv4Address{};  // 0.0.0.0: an RFC 5227 probe
  if (arp->target_ip != addressing_.ipv4) {
    if (sender_known_address) neighbours_.refresh(neighbour_key(arp->sender_ip), arp->sender_mac, now_us_);
    ++counters_.rx_arp_other;
    return false;
  }
  if (sender_known_address) neighbours_.learn(neighbour_key(arp->sender_ip), arp->sender_mac, now_us_);
  if (!answer) return false;  // another worker's: counted and answered there, learned here
  if (arp->operation == packet::ArpOperation::Reply) {
    ++counters_.rx_arp_replies;
    return sender_known_address;
  }
  ++counters_.rx_arp_requests;
  std::uint8_t* body = nullptr;
  rte_mbuf* reply = control_frame(arp->sender_mac, packet::ether_type::kArp, packet::kArpLength, body);
  if (reply != nullptr) {
    packet::build_arp_reply({body, packet::kArpLength}, arp.value(), addressing_.mac);
    ++counters_.tx_control;
    enqueue_tx(reply);
  }
  return sender_known_address;
}

void DpdkBackend::send_arp_request(const packet::Ipv4Address& target) {
  std::uint8_t* body = nullptr;
  rte_mbuf* request = control_frame(packet::kBroadcastMac, packet::ether_type::kArp, packet::kArpLength, body);
  if (request == nullptr) return;
  packet::ArpPacket arp;
  arp.operation = packet::ArpOperation::Request;
  arp.sender_mac = addressing_.mac;
  arp.sender_ip = addressing_.ipv4;
  arp.target_ip = target;  // target_mac stays zero: that is what is asked (RFC 826)
  packet::build_arp({body, packet::kArpLength}, arp);
  ++counters_.tx_arp_requests;
  enqueue_tx(request);
}

void DpdkBackend::send_neighbour_solicitation(const packet::Ipv6Address& target) {
  // RFC 4861 §7.2.2: to the target's solicited-node group ff02::1:ffXX:XXXX (RFC 4291
  // §2.7.1), whose MAC is 33:33 and the group's last four bytes (RFC 2464 §7).
  packet::Ipv6Address group = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF, 0, 0, 0};
  std::copy(target.begin() + 13, target.end(), group.begin() + 13);
  const packet::MacAddress group_mac = {0x33, 0x33, group[12], group[13], group[14], group[15]};
  constexpr std::size_t kSolicitationLength = 32;  // header, target, source link-layer option
  std::uint8_t* body = nullptr;
  rte_mbuf* frame =
      control_frame(group_mac, packet::ether_type::kIpv6, packet::kIpv6HeaderLength + kSolicitationLength, body);
  if (frame == nullptr) return;
  packet::Ipv6HeaderFields ip;
  ip.source = addressing_.ipv6;
  ip.destination = group;
  ip.next_header = packet::ip_protocol::kIcmpv6;
  ip.hop_limit = 255;  // RFC 4861 §7.1.1
  ip.traffic_class = 0;
  ip.payload_length = kSolicitationLength;
  packet::build_ipv6_header({body, packet::kIpv6HeaderLength}, ip);
  std::uint8_t* message = body + packet::kIpv6HeaderLength;
  std::memset(message, 0, kSolicitationLength);
  message[0] = packet::icmpv6_type::kNeighborSolicitation;  // RFC 4861 §4.3
  std::copy(target.begin(), target.end(), message + 8);
  message[24] = 1;  // source link-layer address option, 8 bytes (RFC 4861 §4.6.1)
  message[25] = 1;
  std::copy(addressing_.mac.begin(), addressing_.mac.end(), message + 26);
  // RFC 4443 §2.3: the checksum covers the RFC 8200 §8.1 pseudo-header.
  packet::InternetChecksum sum;
  sum.add(ip.source);
  sum.add(ip.destination);
  sum.add_u32(kSolicitationLength);
  sum.add_u32(packet::ip_protocol::kIcmpv6);
  sum.add({message, kSolicitationLength});
  packet::store_be16(message + 2, sum.finish());
  ++counters_.tx_arp_requests;
  enqueue_tx(frame);
}

void DpdkBackend::handle_icmp(const packet::EthernetFrame& ethernet, const packet::Ipv4Address& source,
                              std::span<const std::uint8_t> message) {
  const packet::ParseResult<packet::IcmpEcho> echo = packet::parse_icmp_echo(message);
  if (!echo) {
    count_parse_error(echo.error());
    return;
  }
  if (echo->type != packet::icmp_type::kEchoRequest) {
    ++counters_.rx_unsupported;
    return;
  }
  // RFC 792: the reply swaps the addresses and carries the request's identifier,
  // sequence number and data. It goes back to the MAC the request came from.
  ++counters_.rx_icmp_echo;
  const std::size_t icmp_length = packet::kIcmpEchoHeaderLength + echo->data.size();
  std::uint8_t* body = nullptr;
  rte_mbuf* reply = control_frame(ethernet.source, packet::ether_type::kIpv4,
                                  packet::kIpv4MinimumHeaderLength + icmp_length, body);
  if (reply == nullptr) return;
  packet::Ipv4HeaderFields ip;
  ip.source = addressing_.ipv4;
  ip.destination = source;
  ip.protocol = packet::ip_protocol::kIcmp;
  ip.tos = 0;
  ip.payload_length = static_cast<std::uint16_t>(icmp_length);
  packet::build_ipv4_header({body, packet::kIpv4MinimumHeaderLength}, ip);
  packet::build_icmp_echo_reply({body + packet::kIpv4MinimumHeaderLength, icmp_length}, echo.value());
  ++counters_.tx_control;
  enqueue_tx(reply);
}

void DpdkBackend::handle_icmpv6(const packet::EthernetFrame& ethernet, const packet::Ipv6Address& source,
                                const packet::Ipv6Address& destination, std::uint8_t hop_limit,
                                std::span<const std::uint8_t> message) {
  const packet::ParseResult<packet::Icmpv6Message> icmp = packet::parse_icmpv6(source, destination, message);
  if (!icmp) {
    count_parse_error(icmp.error());
    return;
  }
  packet::Ipv6HeaderFields ip;
  ip.source = addressing_.ipv6;
  ip.destination = source;
  ip.next_header = packet::ip_protocol::kIcmpv6;
  ip.traffic_class = 0;
  std::size_t length = 0;
  packet::MacAddress to = ethernet.source;
  switch (icmp->type) {
    case packet::icmpv6_type::kNeighborSolicitation:
      // RFC 4861 §7.1.1: hop limit 255 proves it was not forwarded.
      if (hop_limit != 255 || is_unspecified(source)) {  // no DAD defence: nothing to answer to
        ++counters_.rx_unsupported;
        return;
      }
      if (icmp->target != addressing_.ipv6) {
        ++counters_.rx_not_for_us;
        return;
      }
      if (icmp->has_link_layer_address) {
        to = icmp->link_layer_address;
        neighbours_.learn(source, icmp->link_layer_address, now_us_);
      }
      ++counters_.rx_neighbour_solicitations;
      ip.hop_limit = 255;
      length = packet::kNeighborAdvertisementLength;
      break;
    case packet::icmpv6_type::kNeighborAdvertisement:
      if (hop_limit == 255 && icmp->has_link_layer_address) neighbours_.learn(icmp->target, icmp->link_layer_address, now_us_);
      ++counters_.rx_arp_replies;
      return;
    case packet::icmpv6_type::kEchoRequest:
      if (destination != addressing_.ipv6) {
        ++counters_.rx_not_for_us;
        return;
      }
      ++counters_.rx_icmp_echo;
      length = packet::kIcmpEchoHeaderLength + icmp->echo.data.size();
      break;
    default:
      ++counters_.rx_unsupported;
      return;
  }
  ip.payload_length = static_cast<std::uint16_t>(length);
  std::uint8_t* body = nullptr;
  rte_mbuf* reply = control_frame(to, packet::ether_type::kIpv6, packet::kIpv6HeaderLength + length, body);
  if (reply == nullptr) return;
  packet::build_ipv6_header({body, packet::kIpv6HeaderLength}, ip);
  const std::span<std::uint8_t> out(body + packet::kIpv6HeaderLength, length);
  if (icmp->type == packet::icmpv6_type::kNeighborSolicitation) {
    packet::build_neighbor_advertisement(out, addressing_.ipv6, source, addressing_.ipv6, addressing_.mac);
  } else {
    packet::build_icmpv6_echo_reply(out, addressing_.ipv6, source, icmp->echo);
  }
  ++counters_.tx_control;
  enqueue_tx(reply);
}

}  // namespace mrfp::dataplane
