// Ethernet, VLAN, ARP, IPv4, IPv6, ICMP/ICMPv6, UDP and the UDP frame chain.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dataplane/packet/arp.h"
#include "dataplane/packet/bytes.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/icmp.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"
#include "dataplane/packet/udp.h"
#include "dataplane/packet/udp_frame.h"
#include "test_bytes.h"

namespace mrfp::packet {
namespace {

using test::hex;
using test::view;

const MacAddress kMixerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddress kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const Ipv4Address kMixerV4 = {192, 0, 2, 1};
const Ipv4Address kPeerV4 = {198, 51, 100, 7};
const Ipv6Address kMixerV6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Ipv6Address kPeerV6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

// A 17-byte RTP packet: PCMU, seq 1, ts 160, SSRC deadbeef, five payload bytes.
const std::vector<std::uint8_t> kRtpPayload = hex("80 00 00 01 00 00 00 a0 de ad be ef d5 d5 d5 d5 d5");

// Every prefix shorter than the whole must fail, never read out of bounds (each
// prefix is its own exact-size heap copy so ASan sees any over-read).
template <class Parse>
void expect_every_prefix_fails(const std::vector<std::uint8_t>& whole, Parse parse) {
  for (std::size_t length = 0; length < whole.size(); ++length) {
    const std::vector<std::uint8_t> prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_FALSE(parse(view(prefix))) << "prefix of " << length << " bytes parsed";
  }
}

// Independent reference checksum: the textbook loop over 16-bit words.
std::uint16_t reference_checksum(const std::vector<std::uint8_t>& bytes) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    sum += static_cast<std::uint32_t>(bytes[i] << 8) + (i + 1 < bytes.size() ? bytes[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> build_v4_frame(bool vlan, bool checksum) {
  std::vector<std::uint8_t> frame(128);
  UdpFrameHeaderFields fields;
  fields.ethernet.destination = kPeerMac;
  fields.ethernet.source = kMixerMac;
  fields.ethernet.vlan_tagged = vlan;
  fields.ethernet.vlan_tci = 0x2064;  // PCP 1, VID 100
  fields.ip.version = IpVersion::V4;
  fields.ip.source_v4 = kMixerV4;
  fields.ip.destination_v4 = kPeerV4;
  fields.source_port = 20000;
  fields.destination_port = 30000;
  const BuildResult headers = build_udp_frame_headers(frame, fields, view(kRtpPayload), checksum);
  EXPECT_TRUE(headers.ok());
  std::copy(kRtpPayload.begin(), kRtpPayload.end(), frame.begin() + static_cast<std::ptrdiff_t>(headers.length));
  frame.resize(headers.length + kRtpPayload.size());
  return frame;
}

std::vector<std::uint8_t> build_v6_frame() {
  std::vector<std::uint8_t> frame(128);
  UdpFrameHeaderFields fields;
  fields.ethernet.destination = kPeerMac;
  fields.ethernet.source = kMixerMac;
  fields.ip.version = IpVersion::V6;
  fields.ip.source_v6 = kMixerV6;
  fields.ip.destination_v6 = kPeerV6;
  fields.source_port = 20000;
  fields.destination_port = 30000;
  const BuildResult headers = build_udp_frame_headers(frame, fields, view(kRtpPayload), false);
  EXPECT_TRUE(headers.ok());
  std::copy(kRtpPayload.begin(), kRtpPayload.end(), frame.begin() + static_cast<std::ptrdiff_t>(headers.length));
  frame.resize(headers.length + kRtpPayload.size());
  return frame;
}

TEST(Checksum, MatchesTextbookLoopForOddAndSplitInput) {
  std::vector<std::uint8_t> bytes;
  for (int i = 0; i < 301; ++i) bytes.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  const std::uint16_t expected = reference_checksum(bytes);
  EXPECT_EQ(internet_checksum(view(bytes)), expected);
  for (std::size_t split = 0; split <= bytes.size(); split += 7) {
    InternetChecksum sum;
    sum.add(view(bytes).first(split));
    sum.add(view(bytes).subspan(split));
    EXPECT_EQ(sum.finish(), expected) << "split at " << split;
  }
}

TEST(Checksum, WordsAddedAfterAnOddByteStraddleIt) {
  // add_u16/add_u32 take a fast path on a word boundary and a bytewise one
  // after an odd byte: both must equal summing the same bytes.
  const std::vector<std::uint8_t> bytes = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x0f, 0xed, 0xcb};
  for (std::size_t lead = 0; lead <= 3; ++lead) {
    InternetChecksum words;
    words.add(view(bytes).first(lead));
    words.add_u16(load_be16(bytes.data() + lead));
    words.add_u32(load_be32(bytes.data() + lead + 2));
    words.add(view(bytes).subspan(lead + 6));
    EXPECT_EQ(words.finish(), reference_checksum(bytes)) << "after " << lead << " leading bytes";
  }
}

TEST(Checksum, FoldsLargeSumsWithoutLosingACarry) {
  const std::vector<std::uint8_t> ones(65535, 0xFF);  // every word 0xFFFF, plus an odd byte
  EXPECT_EQ(internet_checksum(view(ones)), reference_checksum(ones));
  const std::vector<std::uint8_t> pattern(4099, 0xFE);
  EXPECT_EQ(internet_checksum(view(pattern)), reference_checksum(pattern));
}

TEST(Ethernet, ParsesUntaggedFrame) {
  const auto frame = hex("ff ff ff ff ff ff 02 00 00 00 00 02 08 06 aa bb");
  const auto parsed = parse_ethernet(view(frame));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->destination, kBroadcastMac);
  EXPECT_EQ(parsed->source, kPeerMac);
  EXPECT_EQ(parsed->ether_type, ether_type::kArp);
  EXPECT_EQ(parsed->vlan_tag_count, 0);
  EXPECT_EQ(parsed->header_length, 14u);
  EXPECT_EQ(parsed->payload.size(), 2u);
}

TEST(Ethernet, ParsesVlanAndQinQ) {
  const auto single = hex("02 00 00 00 00 01 02 00 00 00 00 02 81 00 20 64 08 00 45");
  const auto one = parse_ethernet(view(single));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->vlan_tag_count, 1);
  EXPECT_EQ(one->outer_vlan_id(), 100);
  EXPECT_EQ(one->ether_type, ether_type::kIpv4);
  EXPECT_EQ(one->header_length, 18u);

  const auto double_tagged = hex("02 00 00 00 00 01 02 00 00 00 00 02 88 a8 00 0a 81 00 00 14 86 dd");
  const auto two = parse_ethernet(view(double_tagged));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->vlan_tag_count, 2);
  EXPECT_EQ(two->outer_vlan_id(), 10);
  EXPECT_EQ(two->inner_vlan_tci, 20);
  EXPECT_EQ(two->ether_type, ether_type::kIpv6);
  EXPECT_TRUE(two->payload.empty());

  const auto triple = hex("02 00 00 00 00 01 02 00 00 00 00 02 88 a8 00 0a 81 00 00 14 81 00 00 1e 08 00");
  EXPECT_EQ(parse_ethernet(view(triple)).error(), ParseError::UnsupportedEtherType);
  expect_every_prefix_fails(std::vector<std::uint8_t>(single.begin(), single.begin() + 18),
                            [](auto bytes) { return parse_ethernet(bytes).ok(); });
}

TEST(Ethernet, Rejects8023LengthField) {
  const auto frame = hex("02 00 00 00 00 01 02 00 00 00 00 02 00 2e");
  EXPECT_EQ(parse_ethernet(view(frame)).error(), ParseError::UnsupportedEtherType);
}

TEST(Ethernet, TruncatedAtEveryOffset) {
  const auto frame = hex("02 00 00 00 00 01 02 00 00 00 00 02 08 00");
  expect_every_prefix_fails(frame, [](auto bytes) { return parse_ethernet(bytes).ok(); });
  for (std::size_t length = 0; length < frame.size(); ++length) {
    EXPECT_EQ(parse_ethernet(view(frame).first(length)).error(), ParseError::Truncated);
  }
}

TEST(Arp, ParsesRequestAndBuildsReply) {
  // who-has 192.0.2.1 tell 198.51.100.7
  const auto request_bytes = hex("0001 0800 06 04 0001 020000000002 c6336407 000000000000 c0000201");
  const auto request = parse_arp(view(request_bytes));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->operation, ArpOperation::Request);
  EXPECT_EQ(request->sender_mac, kPeerMac);
  EXPECT_EQ(request->sender_ip, kPeerV4);
  EXPECT_EQ(request->target_ip, kMixerV4);

  std::array<std::uint8_t, kArpLength> reply_bytes{};
  ASSERT_EQ(build_arp_reply(reply_bytes, request.value(), kMixerMac).length, kArpLength);
  const auto reply = parse_arp(reply_bytes);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->operation, ArpOperation::Reply);
  EXPECT_EQ(reply->sender_mac, kMixerMac);
  EXPECT_EQ(reply->sender_ip, kMixerV4);
  EXPECT_EQ(reply->target_mac, kPeerMac);
  EXPECT_EQ(reply->target_ip, kPeerV4);

  std::array<std::uint8_t, kArpLength - 1> small{};
  EXPECT_EQ(build_arp_reply(small, request.value(), kMixerMac).error, BuildError::BufferTooSmall);
  for (std::size_t length = 0; length < request_bytes.size(); ++length) {
    EXPECT_EQ(parse_arp(view(request_bytes).first(length)).error(), ParseError::Truncated);
  }
}

TEST(Arp, RejectsOtherHardwareAndOperations) {
  auto bytes = hex("0001 0800 06 04 0001 020000000002 c6336407 000000000000 c0000201");
  bytes[1] = 6;  // IEEE 802 networks
  EXPECT_EQ(parse_arp(view(bytes)).error(), ParseError::UnsupportedArp);
  bytes[1] = 1;
  bytes[7] = 3;  // RARP request
  EXPECT_EQ(parse_arp(view(bytes)).error(), ParseError::UnsupportedArp);
}

TEST(Ipv4, ParsesBuiltHeaderAndTrimsEthernetPadding) {
  std::vector<std::uint8_t> packet(60, 0);  // minimum Ethernet payload: padding after the IP packet
  Ipv4HeaderFields fields;
  fields.source = kMixerV4;
  fields.destination = kPeerV4;
  fields.payload_length = 8;
  fields.identification = 0x1234;
  ASSERT_EQ(build_ipv4_header(packet, fields).length, 20u);
  const auto parsed = parse_ipv4(view(packet));
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->source, kMixerV4);
  EXPECT_EQ(parsed->destination, kPeerV4);
  EXPECT_EQ(parsed->protocol, ip_protocol::kUdp);
  EXPECT_EQ(parsed->total_length, 28);
  EXPECT_EQ(parsed->payload.size(), 8u);
  EXPECT_EQ(parsed->identification, 0x1234);
}

TEST(Ipv4, KnownHeaderChecksum) {
  // The classic example header (checksum b861).
  const auto header = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  std::vector<std::uint8_t> packet = header;
  packet.resize(0x73, 0);
  ASSERT_TRUE(parse_ipv4(view(packet)).ok());
  auto zeroed = header;
  zeroed[10] = zeroed[11] = 0;
  EXPECT_EQ(internet_checksum(view(zeroed)), 0xb861);
}

TEST(Ipv4, EachMalformedFieldHasItsError) {
  std::vector<std::uint8_t> good(28, 0);
  Ipv4HeaderFields fields;
  fields.payload_length = 8;
  build_ipv4_header(good, fields);
  auto refresh_checksum = [](std::vector<std::uint8_t>& bytes) {
    const std::size_t header_length = static_cast<std::size_t>(bytes[0] & 0x0F) * 4;
    store_be16(bytes.data() + 10, 0);
    store_be16(bytes.data() + 10, internet_checksum(view(bytes).first(std::min(header_length, bytes.size()))));
  };

  for (std::size_t length = 0; length < 20; ++length) {
    EXPECT_EQ(parse_ipv4(view(good).first(length)).error(), ParseError::Truncated);
  }
  expect_every_prefix_fails(good, [](auto bytes) { return parse_ipv4(bytes).ok(); });

  auto version = good;
  version[0] = 0x65;
  EXPECT_EQ(parse_ipv4(view(version)).error(), ParseError::BadVersion);

  auto short_ihl = good;
  short_ihl[0] = 0x44;
  EXPECT_EQ(parse_ipv4(view(short_ihl)).error(), ParseError::BadHeaderLength);
  auto long_ihl = good;
  long_ihl[0] = 0x48;  // 32 bytes of header in a 28-byte packet
  EXPECT_EQ(parse_ipv4(view(long_ihl)).error(), ParseError::BadHeaderLength);

  auto too_long = good;
  store_be16(too_long.data() + 2, 29);
  refresh_checksum(too_long);
  EXPECT_EQ(parse_ipv4(view(too_long)).error(), ParseError::BadTotalLength);
  auto too_short = good;
  store_be16(too_short.data() + 2, 19);
  refresh_checksum(too_short);
  EXPECT_EQ(parse_ipv4(view(too_short)).error(), ParseError::BadTotalLength);

  auto checksum = good;
  checksum[11] ^= 1;
  EXPECT_EQ(parse_ipv4(view(checksum)).error(), ParseError::BadChecksum);

  auto more_fragments = good;
  store_be16(more_fragments.data() + 6, 0x2000);
  refresh_checksum(more_fragments);
  EXPECT_EQ(parse_ipv4(view(more_fragments)).error(), ParseError::Fragment);
  auto last_fragment = good;
  store_be16(last_fragment.data() + 6, 0x00b9);  // offset 185 * 8
  refresh_checksum(last_fragment);
  EXPECT_EQ(parse_ipv4(view(last_fragment)).error(), ParseError::Fragment);
}

TEST(Ipv4, SkipsOptions) {
  // IHL 6: one word of options (NOP NOP NOP EOL), then 4 payload bytes.
  std::vector<std::uint8_t> packet = hex("4600 01c0 0000 4000 4011 0000 c0000201 c6336407 01010100 aabbccdd");
  store_be16(packet.data() + 2, static_cast<std::uint16_t>(packet.size()));
  store_be16(packet.data() + 10, internet_checksum(view(packet).first(24)));
  const auto parsed = parse_ipv4(view(packet));
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->header_length, 24);
  ASSERT_EQ(parsed->payload.size(), 4u);
  EXPECT_EQ(parsed->payload[0], 0xaa);
}

std::vector<std::uint8_t> ipv6_with_extensions(std::uint8_t first_next_header,
                                               const std::vector<std::uint8_t>& extensions_and_payload) {
  std::vector<std::uint8_t> packet(40 + extensions_and_payload.size());
  Ipv6HeaderFields fields;
  fields.source = kPeerV6;
  fields.destination = kMixerV6;
  fields.next_header = first_next_header;
  fields.payload_length = static_cast<std::uint16_t>(extensions_and_payload.size());
  build_ipv6_header(packet, fields);
  std::copy(extensions_and_payload.begin(), extensions_and_payload.end(), packet.begin() + 40);
  return packet;
}

TEST(Ipv6, ParsesFixedHeader) {
  std::vector<std::uint8_t> packet(48);
  Ipv6HeaderFields fields;
  fields.source = kMixerV6;
  fields.destination = kPeerV6;
  fields.flow_label = 0x12345;
  fields.payload_length = 8;
  ASSERT_EQ(build_ipv6_header(packet, fields).length, 40u);
  const auto parsed = parse_ipv6(view(packet));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->next_header, ip_protocol::kUdp);
  EXPECT_EQ(parsed->flow_label, 0x12345u);
  EXPECT_EQ(parsed->traffic_class, 0xB8);
  EXPECT_EQ(parsed->source, kMixerV6);
  EXPECT_EQ(parsed->payload.size(), 8u);
  for (std::size_t length = 0; length < 40; ++length) {
    EXPECT_EQ(parse_ipv6(view(packet).first(length)).error(), ParseError::Truncated);
  }
  expect_every_prefix_fails(packet, [](auto bytes) { return parse_ipv6(bytes).ok(); });
  packet[0] = 0x40;
  EXPECT_EQ(parse_ipv6(view(packet)).error(), ParseError::BadVersion);
}

TEST(Ipv6, SkipsHopByHopRoutingAndDestinationOptions) {
  // hop-by-hop (8 bytes, PadN) -> routing (16 bytes) -> destination options (8) -> UDP
  const auto chain = hex(
      "2b 00 01 04 00000000"
      "3c 01 00 00 00000000 0000000000000000"
      "11 00 01 04 00000000"
      "4e20 7530 0008 0000");
  const auto packet = ipv6_with_extensions(ip_protocol::kHopByHop, chain);
  const auto parsed = parse_ipv6(view(packet));
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->next_header, ip_protocol::kUdp);
  ASSERT_EQ(parsed->payload.size(), 8u);
  EXPECT_EQ(load_be16(parsed->payload.data()), 20000);
  expect_every_prefix_fails(packet, [](auto bytes) { return parse_ipv6(bytes).ok(); });
}

TEST(Ipv6, ExtensionErrors) {
  const auto fragment = ipv6_with_extensions(ip_protocol::kHopByHop, hex("2c 00 01 04 00000000 11 00 0001 00000001"));
  EXPECT_EQ(parse_ipv6(view(fragment)).error(), ParseError::Fragment);

  const auto beyond = ipv6_with_extensions(ip_protocol::kIpv6DestinationOptions, hex("11 02 01 04 00000000"));
  EXPECT_EQ(parse_ipv6(view(beyond)).error(), ParseError::BadHeaderLength);

  std::vector<std::uint8_t> looping;
  for (int i = 0; i < 12; ++i) {
    const auto one = hex("3c 00 01 04 00000000");
    looping.insert(looping.end(), one.begin(), one.end());
  }
  const auto too_long = ipv6_with_extensions(ip_protocol::kIpv6DestinationOptions, looping);
  EXPECT_EQ(parse_ipv6(view(too_long)).error(), ParseError::ExtensionChainTooLong);

  auto bad_length = ipv6_with_extensions(ip_protocol::kUdp, hex("4e20 7530 0008 0000"));
  store_be16(bad_length.data() + 4, 9);
  EXPECT_EQ(parse_ipv6(view(bad_length)).error(), ParseError::BadTotalLength);
}

TEST(Udp, ParsesAndChecksLength) {
  const auto segment = hex("4e20 7530 000c 0000 01020304 ffff");  // 2 trailing bytes beyond length
  const auto parsed = parse_udp(view(segment));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->source_port, 20000);
  EXPECT_EQ(parsed->destination_port, 30000);
  EXPECT_EQ(parsed->payload.size(), 4u);
  for (std::size_t length = 0; length < 8; ++length) {
    EXPECT_EQ(parse_udp(view(segment).first(length)).error(), ParseError::Truncated);
  }
  auto short_length = segment;
  short_length[5] = 7;
  EXPECT_EQ(parse_udp(view(short_length)).error(), ParseError::BadTotalLength);
  auto long_length = segment;
  long_length[5] = 15;
  EXPECT_EQ(parse_udp(view(long_length)).error(), ParseError::BadTotalLength);
}

TEST(Udp, ChecksumMatchesIndependentlyComputedValues) {
  // Expected values computed outside this code base (a Python one-liner over the
  // pseudo-header + segment, RFC 768 / RFC 8200 §8.1).
  std::array<std::uint8_t, 8> header{};
  ASSERT_TRUE(build_udp_header(header, {20000, 30000, static_cast<std::uint16_t>(kRtpPayload.size())},
                               kMixerV4, kPeerV4, view(kRtpPayload)));
  EXPECT_EQ(load_be16(header.data() + 6), 0xb143);
  ASSERT_TRUE(build_udp_header(header, {20000, 30000, static_cast<std::uint16_t>(kRtpPayload.size())},
                               kMixerV6, kPeerV6, view(kRtpPayload)));
  EXPECT_EQ(load_be16(header.data() + 6), 0x420b);

  // And against the textbook loop over an explicit pseudo-header.
  std::vector<std::uint8_t> pseudo = {192, 0, 2, 1, 198, 51, 100, 7, 0, 17, 0, 25};
  ASSERT_TRUE(build_udp_header(header, {20000, 30000, static_cast<std::uint16_t>(kRtpPayload.size())}));
  pseudo.insert(pseudo.end(), header.begin(), header.end());
  pseudo.insert(pseudo.end(), kRtpPayload.begin(), kRtpPayload.end());
  EXPECT_EQ(reference_checksum(pseudo), 0xb143);
}

TEST(Udp, VerifyRulesForZeroChecksum) {
  std::vector<std::uint8_t> segment(8 + kRtpPayload.size());
  build_udp_header(segment, {1, 2, static_cast<std::uint16_t>(kRtpPayload.size())});
  std::copy(kRtpPayload.begin(), kRtpPayload.end(), segment.begin() + 8);
  EXPECT_TRUE(verify_udp_checksum(kMixerV4, kPeerV4, view(segment)));   // RFC 768: none sent
  EXPECT_FALSE(verify_udp_checksum(kMixerV6, kPeerV6, view(segment)));  // RFC 8200 §8.1: mandatory
  store_be16(segment.data() + 6, udp_checksum(kMixerV6, kPeerV6, view(segment).first(8), view(segment).subspan(8)));
  EXPECT_TRUE(verify_udp_checksum(kMixerV6, kPeerV6, view(segment)));
  segment.back() ^= 0x40;
  EXPECT_FALSE(verify_udp_checksum(kMixerV6, kPeerV6, view(segment)));
}

TEST(UdpFrame, BuiltIpv4FrameRoundTrips) {
  for (const bool vlan : {false, true}) {
    const auto frame = build_v4_frame(vlan, true);
    const auto parsed = parse_udp_frame(view(frame), true);
    ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
    EXPECT_EQ(parsed->ethernet.vlan_tag_count, vlan ? 1 : 0);
    EXPECT_EQ(parsed->ip.version, IpVersion::V4);
    EXPECT_EQ(parsed->ip.source_v4, kMixerV4);
    EXPECT_EQ(parsed->ip.destination_v4, kPeerV4);
    EXPECT_EQ(parsed->udp.source_port, 20000);
    EXPECT_EQ(parsed->udp.destination_port, 30000);
    EXPECT_EQ(parsed->udp.checksum, 0xb143);
    ASSERT_EQ(parsed->udp.payload.size(), kRtpPayload.size());
    EXPECT_TRUE(std::equal(kRtpPayload.begin(), kRtpPayload.end(), parsed->udp.payload.begin()));
    expect_every_prefix_fails(frame, [](auto bytes) { return parse_udp_frame(bytes, true).ok(); });
  }
}

TEST(UdpFrame, BuiltIpv6FrameRoundTripsWithMandatoryChecksum) {
  const auto frame = build_v6_frame();
  const auto parsed = parse_udp_frame(view(frame), true);
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->ip.version, IpVersion::V6);
  EXPECT_EQ(parsed->ip.destination_v6, kPeerV6);
  EXPECT_EQ(parsed->udp.checksum, 0x420b);
  expect_every_prefix_fails(frame, [](auto bytes) { return parse_udp_frame(bytes, true).ok(); });
}

TEST(UdpFrame, ReportsWrongChecksumAndNonUdp) {
  auto frame = build_v4_frame(false, true);
  frame.back() ^= 1;
  EXPECT_EQ(parse_udp_frame(view(frame), true).error(), ParseError::BadChecksum);
  EXPECT_TRUE(parse_udp_frame(view(frame), false).ok());

  auto icmp = build_v4_frame(false, false);
  icmp[14 + 9] = ip_protocol::kIcmp;
  store_be16(icmp.data() + 14 + 10, 0);
  store_be16(icmp.data() + 14 + 10, internet_checksum(view(icmp).subspan(14, 20)));
  EXPECT_EQ(parse_udp_frame(view(icmp), false).error(), ParseError::UnsupportedProtocol);

  const auto arp = hex("ffffffffffff 020000000002 0806 0001 0800 06 04 0001 020000000002 c6336407 000000000000 c0000201");
  EXPECT_EQ(parse_udp_frame(view(arp), false).error(), ParseError::UnsupportedEtherType);
}

TEST(Icmp, EchoRequestGetsAReply) {
  // ping: type 8, id 0x1234, seq 1, data "abcd"
  auto request_bytes = hex("08 00 0000 1234 0001 61626364");
  store_be16(request_bytes.data() + 2, internet_checksum(view(request_bytes)));
  const auto request = parse_icmp_echo(view(request_bytes));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->type, icmp_type::kEchoRequest);
  EXPECT_EQ(request->identifier, 0x1234);
  EXPECT_EQ(request->sequence, 1);
  EXPECT_EQ(request->data.size(), 4u);

  std::vector<std::uint8_t> reply_bytes(64);
  const BuildResult built = build_icmp_echo_reply(reply_bytes, request.value());
  ASSERT_EQ(built.length, request_bytes.size());
  reply_bytes.resize(built.length);
  const auto reply = parse_icmp_echo(view(reply_bytes));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->type, icmp_type::kEchoReply);
  EXPECT_EQ(reply->identifier, 0x1234);
  EXPECT_TRUE(std::equal(reply->data.begin(), reply->data.end(), request_bytes.begin() + 8));

  // Built in place over the request, as a DPDK backend would.
  ASSERT_TRUE(build_icmp_echo_reply(request_bytes, parse_icmp_echo(view(request_bytes)).value()));
  EXPECT_EQ(request_bytes, reply_bytes);

  auto corrupt = reply_bytes;
  corrupt[9] ^= 1;
  EXPECT_EQ(parse_icmp_echo(view(corrupt)).error(), ParseError::BadChecksum);
  auto unreachable = hex("03 01 0000 00000000");
  store_be16(unreachable.data() + 2, internet_checksum(view(unreachable)));
  EXPECT_EQ(parse_icmp_echo(view(unreachable)).error(), ParseError::UnsupportedIcmpType);
  for (std::size_t length = 0; length < 8; ++length) {
    EXPECT_EQ(parse_icmp_echo(view(reply_bytes).first(length)).error(), ParseError::Truncated);
  }
}

TEST(Icmpv6, EchoAndNeighborDiscovery) {
  const IcmpEcho ping{icmpv6_type::kEchoRequest, 7, 9, {}};
  // The reply checksum covers the pseudo-header: another address breaks it.
  std::vector<std::uint8_t> reply(64);
  const auto built = build_icmpv6_echo_reply(reply, kMixerV6, kPeerV6, ping);
  ASSERT_TRUE(built);
  reply.resize(built.length);
  const auto parsed_reply = parse_icmpv6(kMixerV6, kPeerV6, view(reply));
  ASSERT_TRUE(parsed_reply.ok()) << to_string(parsed_reply.error());
  EXPECT_EQ(parsed_reply->type, icmpv6_type::kEchoReply);
  EXPECT_EQ(parsed_reply->echo.identifier, 7);
  EXPECT_EQ(parsed_reply->echo.sequence, 9);
  Ipv6Address elsewhere = kPeerV6;
  elsewhere[15] = 3;
  EXPECT_EQ(parse_icmpv6(kMixerV6, elsewhere, view(reply)).error(), ParseError::BadChecksum);

  std::array<std::uint8_t, kNeighborAdvertisementLength> advert{};
  ASSERT_TRUE(build_neighbor_advertisement(advert, kMixerV6, kPeerV6, kMixerV6, kMixerMac));
  const auto parsed_advert = parse_icmpv6(kMixerV6, kPeerV6, advert);
  ASSERT_TRUE(parsed_advert.ok()) << to_string(parsed_advert.error());
  EXPECT_EQ(parsed_advert->type, icmpv6_type::kNeighborAdvertisement);
  EXPECT_EQ(parsed_advert->target, kMixerV6);
  EXPECT_TRUE(parsed_advert->has_link_layer_address);
  EXPECT_EQ(parsed_advert->link_layer_address, kMixerMac);

  // A solicitation: type 135, target, source link-layer option; its checksum by the
  // textbook loop over an explicit pseudo-header (length 32, next header 58).
  std::vector<std::uint8_t> solicitation = hex("87 00 0000 00000000");
  solicitation.insert(solicitation.end(), kMixerV6.begin(), kMixerV6.end());
  const auto option = hex("01 01 020000000002");
  solicitation.insert(solicitation.end(), option.begin(), option.end());
  std::vector<std::uint8_t> pseudo(kPeerV6.begin(), kPeerV6.end());
  pseudo.insert(pseudo.end(), kMixerV6.begin(), kMixerV6.end());
  const auto tail = hex("00000020 00 00 00 3a");
  pseudo.insert(pseudo.end(), tail.begin(), tail.end());
  pseudo.insert(pseudo.end(), solicitation.begin(), solicitation.end());
  store_be16(solicitation.data() + 2, reference_checksum(pseudo));
  const auto parsed_solicitation = parse_icmpv6(kPeerV6, kMixerV6, view(solicitation));
  ASSERT_TRUE(parsed_solicitation.ok()) << to_string(parsed_solicitation.error());
  EXPECT_EQ(parsed_solicitation->type, icmpv6_type::kNeighborSolicitation);
  EXPECT_EQ(parsed_solicitation->target, kMixerV6);
  EXPECT_EQ(parsed_solicitation->link_layer_address, kPeerMac);
  expect_every_prefix_fails(solicitation, [](auto bytes) { return parse_icmpv6(kPeerV6, kMixerV6, bytes).ok(); });
}

}  // namespace
}  // namespace mrfp::packet
