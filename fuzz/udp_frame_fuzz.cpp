// Fuzzes the link and network parsers as the DPDK backend chains them: Ethernet
// (VLAN), then UDP over IPv4/IPv6, or ARP, or ICMP/ICMPv6, building the replies a
// backend would send.
#include <array>

#include "dataplane/packet/arp.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/icmp.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"
#include "dataplane/packet/udp.h"
#include "dataplane/packet/udp_frame.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mrfp;
  const std::span<const std::uint8_t> bytes(data, size);
  static std::array<std::uint8_t, 70000> reply{};  // an echo reply can be as long as its request
  const packet::MacAddress our_mac = {2, 0, 0, 0, 0, 1};

  for (const bool verify : {false, true}) {
    if (const auto frame = packet::parse_udp_frame(bytes, verify)) {
      fuzz::touch(frame->udp.payload);
      fuzz::touch(frame->ethernet.payload);
    }
  }
  // The raw IP and UDP parsers straight on the input too (a socket backend has no
  // Ethernet header; the fuzzer finds those paths faster this way).
  if (const auto ip = packet::parse_ipv4(bytes)) {
    fuzz::touch(ip->payload);
    if (const auto udp = packet::parse_udp(ip->payload)) {
      fuzz::touch(udp->payload);
      (void)packet::verify_udp_checksum(ip->source, ip->destination, ip->payload.first(udp->length));
    }
  }
  if (const auto ip = packet::parse_ipv6(bytes)) {
    fuzz::touch(ip->payload);
    if (const auto message = packet::parse_icmpv6(ip->source, ip->destination, ip->payload)) {
      fuzz::touch(message->echo.data);
    }
  }

  const auto ethernet = packet::parse_ethernet(bytes);
  if (!ethernet) return 0;
  fuzz::touch(ethernet->payload);
  if (ethernet->header_length + ethernet->payload.size() != size) fuzz::invariant_broken();
  switch (ethernet->ether_type) {
    case packet::ether_type::kArp:
      if (const auto arp = packet::parse_arp(ethernet->payload)) {
        if (!packet::build_arp_reply(reply, arp.value(), our_mac)) fuzz::invariant_broken();
        const auto again = packet::parse_arp(std::span<const std::uint8_t>(reply).first(packet::kArpLength));
        if (!again || again->target_ip != arp->sender_ip || again->sender_ip != arp->target_ip) {
          fuzz::invariant_broken();
        }
      }
      break;
    case packet::ether_type::kIpv4:
      if (const auto ip = packet::parse_ipv4(ethernet->payload)) {
        if (ip->protocol == packet::ip_protocol::kIcmp) {
          if (const auto echo = packet::parse_icmp_echo(ip->payload)) {
            const auto built = packet::build_icmp_echo_reply(reply, echo.value());
            if (!built) fuzz::invariant_broken();
            if (!packet::parse_icmp_echo(std::span<const std::uint8_t>(reply).first(built.length))) {
              fuzz::invariant_broken();
            }
          }
        }
      }
      break;
    case packet::ether_type::kIpv6:
      if (const auto ip = packet::parse_ipv6(ethernet->payload)) {
        if (ip->next_header == packet::ip_protocol::kIcmpv6) {
          if (const auto message = packet::parse_icmpv6(ip->source, ip->destination, ip->payload)) {
            if (message->type == packet::icmpv6_type::kEchoRequest) {
              const auto built = packet::build_icmpv6_echo_reply(reply, ip->destination, ip->source, message->echo);
              if (!built) fuzz::invariant_broken();
              if (!packet::parse_icmpv6(ip->destination, ip->source,
                                        std::span<const std::uint8_t>(reply).first(built.length))) {
                fuzz::invariant_broken();
              }
            } else if (message->type == packet::icmpv6_type::kNeighborSolicitation) {
              if (!packet::build_neighbor_advertisement(reply, ip->destination, ip->source, message->target,
                                                        our_mac)) {
                fuzz::invariant_broken();
              }
            }
          }
        }
      }
      break;
    default:
      break;
  }
  return 0;
}
