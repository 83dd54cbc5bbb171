#include "dataplane/packet/udp_frame.h"

#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"

namespace mrfp::packet {

ParseResult<UdpFrame> parse_udp_frame(std::span<const std::uint8_t> frame, bool verify_udp_checksum) {
  const ParseResult<EthernetFrame> ethernet = parse_ethernet(frame);
  if (!ethernet) return ethernet.error();
  UdpFrame parsed;
  parsed.ethernet = ethernet.value();
  std::span<const std::uint8_t> segment;  // the IP payload: the UDP datagram
  if (ethernet->ether_type == ether_type::kIpv4) {
    const ParseResult<Ipv4Packet> ip = parse_ipv4(ethernet->payload);
    if (!ip) return ip.error();
    if (ip->protocol != ip_protocol::kUdp) return ParseError::UnsupportedProtocol;
    parsed.ip.version = IpVersion::V4;
    parsed.ip.source_v4 = ip->source;
    parsed.ip.destination_v4 = ip->destination;
    parsed.ttl_or_hop_limit = ip->ttl;
    segment = ip->payload;
  } else if (ethernet->ether_type == ether_type::kIpv6) {
    const ParseResult<Ipv6Packet> ip = parse_ipv6(ethernet->payload);
    if (!ip) return ip.error();
    if (ip->next_header != ip_protocol::kUdp) return ParseError::UnsupportedProtocol;
    parsed.ip.version = IpVersion::V6;
    parsed.ip.source_v6 = ip->source;
    parsed.ip.destination_v6 = ip->destination;
    parsed.ttl_or_hop_limit = ip->hop_limit;
    segment = ip->payload;
  } else {
    return ParseError::UnsupportedEtherType;
  }
  const ParseResult<UdpDatagram> udp = parse_udp(segment);
  if (!udp) return udp.error();
  parsed.udp = udp.value();
  if (verify_udp_checksum) {
    const auto datagram = segment.first(udp->length);
    const bool checksum_ok =
        parsed.ip.version == IpVersion::V4
            ? packet::verify_udp_checksum(parsed.ip.source_v4, parsed.ip.destination_v4, datagram)
            : packet::verify_udp_checksum(parsed.ip.source_v6, parsed.ip.destination_v6, datagram);
    if (!checksum_ok) return ParseError::BadChecksum;
  }
  return parsed;
}

BuildResult build_udp_frame_headers(std::span<std::uint8_t> out, const UdpFrameHeaderFields& fields,
                                    std::span<const std::uint8_t> payload, bool compute_udp_checksum) {
  if (payload.size() > 0xFFFF - kUdpHeaderLength - kIpv6HeaderLength) {
    return BuildResult::failed(BuildError::BadArgument);
  }
  const bool v4 = fields.ip.version == IpVersion::V4;
  EthernetHeaderFields ethernet = fields.ethernet;
  ethernet.ether_type = v4 ? ether_type::kIpv4 : ether_type::kIpv6;
  const BuildResult link = build_ethernet_header(out, ethernet);
  if (!link) return link;
  std::span<std::uint8_t> rest = out.subspan(link.length);

  const auto udp_length = static_cast<std::uint16_t>(kUdpHeaderLength + payload.size());
  BuildResult network;
  if (v4) {
    Ipv4HeaderFields ip;
    ip.source = fields.ip.source_v4;
    ip.destination = fields.ip.destination_v4;
    ip.ttl = fields.ttl_or_hop_limit;
    ip.tos = fields.tos_or_traffic_class;
    ip.payload_length = udp_length;
    network = build_ipv4_header(rest, ip);
  } else {
    Ipv6HeaderFields ip;
    ip.source = fields.ip.source_v6;
    ip.destination = fields.ip.destination_v6;
    ip.hop_limit = fields.ttl_or_hop_limit;
    ip.traffic_class = fields.tos_or_traffic_class;
    ip.payload_length = udp_length;
    network = build_ipv6_header(rest, ip);
  }
  if (!network) return network;
  rest = rest.subspan(network.length);

  UdpHeaderFields udp{fields.source_port, fields.destination_port,
                      static_cast<std::uint16_t>(payload.size())};
  BuildResult transport;
  if (!v4) {
    transport = build_udp_header(rest, udp, fields.ip.source_v6, fields.ip.destination_v6, payload);
  } else if (compute_udp_checksum) {
    transport = build_udp_header(rest, udp, fields.ip.source_v4, fields.ip.destination_v4, payload);
  } else {
    transport = build_udp_header(rest, udp);
  }
  if (!transport) return transport;
  return BuildResult::written(link.length + network.length + transport.length);
}

}  // namespace mrfp::packet
