// IPv6 on the DPDK backend (net_ring): neighbour solicitation answered (RFC 4861
// §7.2.4), UDP over IPv6 delivered and sent with the mandatory checksum (RFC 8200
// §8.1), ICMPv6 echo answered (RFC 4443 §4.2).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <optional>

#include "dataplane/packet/icmp.h"
#include "dataplane/packet/ipv6.h"
#include "dpdk/dpdk_test_support.h"

namespace mrfp::dataplane::test {
namespace {

const packet::Ipv6Address kMixerIp6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};  // RFC 3849
const packet::Ipv6Address kPeerIp6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};

// Ethernet + IPv6 + an ICMPv6 message whose checksum the test computes itself.
std::vector<std::uint8_t> icmpv6_frame(const packet::MacAddress& to, const packet::Ipv6Address& destination,
                                       std::vector<std::uint8_t> message) {
  std::uint32_t pseudo = sum_words(kPeerIp6);
  pseudo = sum_words(destination, pseudo);
  pseudo += static_cast<std::uint32_t>(message.size()) + packet::ip_protocol::kIcmpv6;
  packet::store_be16(&message[2], fold_complement(sum_words(message, pseudo)));
  std::vector<std::uint8_t> frame(14 + 40 + message.size());
  packet::build_ethernet_header(frame, {to, kPeerMac, packet::ether_type::kIpv6});
  packet::Ipv6HeaderFields ip;
  ip.source = kPeerIp6;
  ip.destination = destination;
  ip.next_header = packet::ip_protocol::kIcmpv6;
  ip.hop_limit = 255;
  ip.payload_length = static_cast<std::uint16_t>(message.size());
  packet::build_ipv6_header(std::span(frame).subspan(14), ip);
  std::copy(message.begin(), message.end(), frame.begin() + 54);
  return frame;
}

class DpdkIpv6Test : public ::testing::Test {
 protected:
  void SetUp() override {
    DpdkPortConfig config = ring.config();
    config.ipv6_address = "2001:db8::1";
    ASSERT_NO_FATAL_FAILURE(open_backend(config, port, backend, ports));
  }
  void TearDown() override {
    backend.reset();
    ring.drain();
  }
  const packet::MacAddress& mixer_mac() const { return port->addressing().mac; }

  RingPort ring;
  std::shared_ptr<DpdkPort> port;
  std::unique_ptr<DpdkBackend> backend;
  std::optional<PortAllocator> ports;
  ReceiveBurst burst{64, 2048};
};

TEST_F(DpdkIpv6Test, NeighbourSolicitationIsAnsweredAndTheSolicitorLearned) {
  // RFC 4861 §4.3: type 135, reserved, target, source link-layer address option.
  std::vector<std::uint8_t> solicitation(32, 0);
  solicitation[0] = packet::icmpv6_type::kNeighborSolicitation;
  std::copy(kMixerIp6.begin(), kMixerIp6.end(), solicitation.begin() + 8);
  solicitation[24] = 1;  // source link-layer address
  solicitation[25] = 1;  // 8 bytes
  std::copy(kPeerMac.begin(), kPeerMac.end(), solicitation.begin() + 26);
  // To the solicited-node group ff02::1:ff00:1 (RFC 4291 §2.7.1), as a resolver sends it.
  const packet::Ipv6Address group = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF, 0x00, 0x00, 0x01};
  ring.inject(icmpv6_frame({0x33, 0x33, 0xFF, 0x00, 0x00, 0x01}, group, solicitation));
  EXPECT_EQ(backend->receive_burst(burst, 0), 0u);

  const auto frames = ring.drain();
  ASSERT_EQ(frames.size(), 1u);
  const auto ethernet = packet::parse_ethernet(frames[0]);
  ASSERT_TRUE(ethernet);
  EXPECT_EQ(ethernet->destination, kPeerMac);
  const auto ip = packet::parse_ipv6(ethernet->payload);
  ASSERT_TRUE(ip) << packet::to_string(ip.error());
  EXPECT_EQ(ip->hop_limit, 255);
  EXPECT_EQ(ip->source, kMixerIp6);
  EXPECT_EQ(ip->destination, kPeerIp6);
  const auto advertisement = packet::parse_icmpv6(ip->source, ip->destination, ip->payload);
  ASSERT_TRUE(advertisement) << packet::to_string(advertisement.error());
  EXPECT_EQ(advertisement->type, packet::icmpv6_type::kNeighborAdvertisement);
  EXPECT_EQ(advertisement->target, kMixerIp6);
  ASSERT_TRUE(advertisement->has_link_layer_address);
  EXPECT_EQ(advertisement->link_layer_address, mixer_mac());
  packet::MacAddress learned{};
  EXPECT_EQ(backend->neighbours().find(kPeerIp6, learned, clock_now_us()), NeighbourTable::Lookup::Reachable);
  EXPECT_EQ(learned, kPeerMac);
  EXPECT_EQ(backend->counters().rx_neighbour_solicitations, 1u);
}

TEST_F(DpdkIpv6Test, EchoRequestIsAnswered) {
  std::vector<std::uint8_t> echo = {packet::icmpv6_type::kEchoRequest, 0, 0, 0, 0x12, 0x34, 0x00, 0x09, 'm', 'r', 'f', 'p'};
  ring.inject(icmpv6_frame(mixer_mac(), kMixerIp6, echo));
  EXPECT_EQ(backend->receive_burst(burst, 0), 0u);
  const auto frames = ring.drain();
  ASSERT_EQ(frames.size(), 1u);
  const auto ethernet = packet::parse_ethernet(frames[0]);
  ASSERT_TRUE(ethernet);
  const auto ip = packet::parse_ipv6(ethernet->payload);
  ASSERT_TRUE(ip);
  const auto reply = packet::parse_icmpv6(ip->source, ip->destination, ip->payload);
  ASSERT_TRUE(reply) << packet::to_string(reply.error());
  EXPECT_EQ(reply->type, packet::icmpv6_type::kEchoReply);
  EXPECT_EQ(reply->echo.identifier, 0x1234);
  EXPECT_EQ(reply->echo.sequence, 9);
  EXPECT_EQ(reply->echo.data.size(), 4u);
}

TEST_F(DpdkIpv6Test, UdpIsDeliveredAndRepliedOverIpv6) {
  auto opened = backend->open_in_range("2001:db8::1", *ports);
  ASSERT_TRUE(opened) << opened.error().message;
  const std::uint16_t local_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&opened->local.address)->sin6_port);

  packet::UdpFrameHeaderFields fields;
  fields.ethernet.destination = mixer_mac();
  fields.ethernet.source = kPeerMac;
  fields.ip.version = packet::IpVersion::V6;
  fields.ip.source_v6 = kPeerIp6;
  fields.ip.destination_v6 = kMixerIp6;
  fields.source_port = 5006;
  fields.destination_port = local_port;
  const std::vector<std::uint8_t> payload(60, 0x42);
  std::vector<std::uint8_t> frame(14 + 40 + 8 + payload.size());
  const auto headers = packet::build_udp_frame_headers(frame, fields, payload, true);
  ASSERT_TRUE(headers.ok());
  std::copy(payload.begin(), payload.end(), frame.begin() + static_cast<std::ptrdiff_t>(headers.length));
  ring.inject(frame);
  ASSERT_EQ(backend->receive_burst(burst, 0), 1u);
  EXPECT_EQ(burst[0].length, payload.size());
  EXPECT_EQ(burst[0].local_port_index, opened->index);
  const auto* source = reinterpret_cast<const sockaddr_in6*>(&burst[0].source);
  ASSERT_EQ(source->sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(source->sin6_port), 5006);
  EXPECT_EQ(std::memcmp(&source->sin6_addr, kPeerIp6.data(), 16), 0);

  // A v4 frame to the v6-only port is not delivered there.
  const std::vector<std::uint8_t> v4 = udp_frame(mixer_mac(), kPeerMac, {198, 18, 0, 7}, 5004, kMixerIp, local_port, payload);
  ring.inject(v4);
  EXPECT_EQ(backend->receive_burst(burst, 0), 0u);
  EXPECT_EQ(backend->counters().rx_closed_port, 1u);

  // Back to the sender, whose MAC the datagram taught us.
  Destination destination;
  destination.local_port_index = opened->index;
  destination.remote = burst[0].source;
  ring.inject(frame);
  ASSERT_EQ(backend->receive_burst(burst, 0), 1u);
  destination.remote = burst[0].source;
  EXPECT_EQ(backend->send_to_many(payload, {&destination, 1}), 1u);
  const auto frames = ring.drain();
  ASSERT_EQ(frames.size(), 1u);
  const auto parsed = packet::parse_udp_frame(frames[0], true);
  ASSERT_TRUE(parsed) << packet::to_string(parsed.error());
  EXPECT_EQ(parsed->ethernet.destination, kPeerMac);
  EXPECT_EQ(parsed->ip.source_v6, kMixerIp6);
  EXPECT_EQ(parsed->ip.destination_v6, kPeerIp6);
  EXPECT_EQ(parsed->udp.source_port, local_port);
  EXPECT_EQ(parsed->udp.destination_port, 5006);
  EXPECT_NE(parsed->udp.checksum, 0) << "mandatory over IPv6";
}

TEST_F(DpdkIpv6Test, AnUnknownNeighbourIsSolicited) {
  auto opened = backend->open_in_range("2001:db8::1", *ports);
  ASSERT_TRUE(opened);
  Destination destination;
  destination.local_port_index = opened->index;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&destination.remote);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(5006);
  std::memcpy(&v6->sin6_addr, kPeerIp6.data(), 16);
  const std::uint8_t payload[] = {0x80, 0, 0, 1};
  EXPECT_EQ(backend->send_to_many(payload, {&destination, 1}), 0u);
  EXPECT_EQ(backend->counters().tx_unresolved, 1u);
  EXPECT_EQ(backend->counters().tx_arp_requests, 1u);
  EXPECT_EQ(backend->counters().tx_no_mbuf, 0u);
  EXPECT_EQ(backend->counters().tx_refused, 0u);
  const auto frames = ring.drain();
  ASSERT_EQ(frames.size(), 1u);
  const auto ethernet = packet::parse_ethernet(frames[0]);
  ASSERT_TRUE(ethernet);
  EXPECT_EQ(ethernet->destination, (packet::MacAddress{0x33, 0x33, 0xFF, 0x00, 0x00, 0x07}));
  const auto ip = packet::parse_ipv6(ethernet->payload);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->hop_limit, 255);
  EXPECT_EQ(ip->destination,
            (packet::Ipv6Address{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF, 0x00, 0x00, 0x07}));
  const auto solicitation = packet::parse_icmpv6(ip->source, ip->destination, ip->payload);
  ASSERT_TRUE(solicitation) << packet::to_string(solicitation.error());
  EXPECT_EQ(solicitation->type, packet::icmpv6_type::kNeighborSolicitation);
  EXPECT_EQ(solicitation->target, kPeerIp6);
  ASSERT_TRUE(solicitation->has_link_layer_address);
  EXPECT_EQ(solicitation->link_layer_address, mixer_mac());

  // The advertisement answers it (RFC 4861 §4.4: flags S and O, target link-layer option).
  std::vector<std::uint8_t> advertisement(32, 0);
  advertisement[0] = packet::icmpv6_type::kNeighborAdvertisement;
  advertisement[4] = 0x60;
  std::copy(kPeerIp6.begin(), kPeerIp6.end(), advertisement.begin() + 8);
  advertisement[24] = 2;
  advertisement[25] = 1;
  std::copy(kPeerMac.begin(), kPeerMac.end(), advertisement.begin() + 26);
  ring.inject(icmpv6_frame(mixer_mac(), kMixerIp6, advertisement));
  EXPECT_EQ(backend->receive_burst(burst, 0), 0u);
  EXPECT_EQ(backend->send_to_many(payload, {&destination, 1}), 1u);
  const auto sent = ring.drain();
  ASSERT_EQ(sent.size(), 1u);
  const auto parsed = packet::parse_udp_frame(sent[0], true);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->ethernet.destination, kPeerMac);
}

}  // namespace
}  // namespace mrfp::dataplane::test
