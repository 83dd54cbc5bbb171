// RTCP compound walking, SR / RR / BYE parsing and building (RFC 3550 §6).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dataplane/packet/rtcp.h"
#include "test_bytes.h"

namespace mrfp::packet {
namespace {

using test::hex;
using test::view;

// SR from SSRC 0x12345678 with one report block about 0xdeadbeef, then SDES CNAME
// "mix" and an APP packet: what a real endpoint sends (RFC 3550 §6.1).
const std::vector<std::uint8_t> kCompound = hex(
    "81 c8 000c 12345678 e7a1b2c3 40000000 0001e240 00000064 00003e80"
    "deadbeef 05 fffffe 00010010 00000020 b2c34000 00008000"
    "81 ca 0003 12345678 01 03 6d6978 00 0000"
    "80 cc 0002 12345678 6e616d65");

TEST(Rtcp, WalksCompoundAndParsesSenderReport) {
  EXPECT_EQ(validate_rtcp_compound(view(kCompound)), ParseError::None);
  RtcpCompoundReader reader(view(kCompound));
  RtcpPacket packet;
  ASSERT_TRUE(reader.next(packet));
  ASSERT_EQ(packet.packet_type, rtcp_type::kSenderReport);
  const auto sr = parse_sender_report(packet);
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(sr->ssrc, 0x12345678u);
  EXPECT_EQ(sr->sender_info.ntp_timestamp, 0xe7a1b2c340000000u);
  EXPECT_EQ(sr->sender_info.rtp_timestamp, 123456u);
  EXPECT_EQ(sr->sender_info.packet_count, 100u);
  EXPECT_EQ(sr->sender_info.octet_count, 16000u);
  ASSERT_EQ(sr->report_blocks.size(), 1u);
  const ReportBlock block = sr->report_blocks[0];
  EXPECT_EQ(block.ssrc, 0xdeadbeefu);
  EXPECT_EQ(block.fraction_lost, 5);
  EXPECT_EQ(block.cumulative_lost, -2);  // 24-bit signed
  EXPECT_EQ(block.highest_sequence, 0x00010010u);
  EXPECT_EQ(block.jitter, 32u);
  EXPECT_EQ(block.last_sender_report, 0xb2c34000u);
  EXPECT_EQ(block.delay_since_last_sender_report, 0x8000u);

  ASSERT_TRUE(reader.next(packet));
  EXPECT_EQ(packet.packet_type, rtcp_type::kSourceDescription);
  EXPECT_EQ(parse_sender_report(packet).error(), ParseError::BadRtcpPacketType);
  ASSERT_TRUE(reader.next(packet));
  EXPECT_EQ(packet.packet_type, rtcp_type::kApplication);
  EXPECT_FALSE(reader.next(packet));
  EXPECT_EQ(reader.error(), ParseError::None);
}

TEST(Rtcp, TruncatedAtEveryOffset) {
  for (std::size_t length = 1; length < kCompound.size(); ++length) {
    const std::vector<std::uint8_t> prefix(kCompound.begin(), kCompound.begin() + static_cast<std::ptrdiff_t>(length));
    const ParseError error = validate_rtcp_compound(view(prefix));
    // A prefix ending exactly on a packet boundary is a valid shorter compound.
    if (length == 52 || length == 68) {
      EXPECT_EQ(error, ParseError::None) << length;
    } else {
      EXPECT_TRUE(error == ParseError::Truncated || error == ParseError::BadRtcpLength) << length;
    }
  }
  EXPECT_EQ(validate_rtcp_compound({}), ParseError::Truncated);
}

TEST(Rtcp, EachMalformedFieldHasItsError) {
  auto version = kCompound;
  version[0] = 0x41;
  EXPECT_EQ(validate_rtcp_compound(view(version)), ParseError::BadVersion);

  auto length = kCompound;
  length[3] = 0xff;
  EXPECT_EQ(validate_rtcp_compound(view(length)), ParseError::BadRtcpLength);

  // RC says 2 blocks but the length holds 1.
  auto count = std::vector<std::uint8_t>(kCompound.begin(), kCompound.begin() + 52);
  count[0] = 0x82;
  RtcpCompoundReader reader(view(count));
  RtcpPacket packet;
  ASSERT_TRUE(reader.next(packet));
  EXPECT_EQ(parse_sender_report(packet).error(), ParseError::BadRtcpLength);

  // Padding on the first of two packets (RFC 3550 §6.4.1: only the last).
  auto padding_first = kCompound;
  padding_first[0] |= 0x20;
  EXPECT_EQ(validate_rtcp_compound(view(padding_first)), ParseError::PaddingNotLast);

  // A padded last packet: BYE with 4 bytes of padding, then bad counts.
  auto padded_bye = hex("a1 cb 0002 12345678 00000004");
  EXPECT_EQ(validate_rtcp_compound(view(padded_bye)), ParseError::None);
  padded_bye.back() = 9;
  EXPECT_EQ(validate_rtcp_compound(view(padded_bye)), ParseError::BadPadding);
  padded_bye.back() = 0;
  EXPECT_EQ(validate_rtcp_compound(view(padded_bye)), ParseError::BadPadding);
}

TEST(Rtcp, ReceiverReportAndByeRoundTrip) {
  std::array<ReportBlock, 2> blocks{};
  blocks[0] = {0x1111, 12, 1000, 70000, 5, 0x12345678, 65536};
  blocks[1] = {0x2222, 0, -8388608, 1, 0, 0, 0};
  const std::array<std::uint32_t, 2> leaving = {0xAAAA0001, 0xAAAA0002};
  std::array<std::uint8_t, 256> out{};
  std::size_t used = 0;
  const BuildResult rr = build_rtcp_receiver_report(out, 0x99, blocks);
  ASSERT_TRUE(rr.ok());
  used += rr.length;
  const BuildResult sdes = build_rtcp_sdes_cname(std::span(out).subspan(used), 0x99, "mrfp@example");
  ASSERT_TRUE(sdes.ok());
  EXPECT_EQ(sdes.length % 4, 0u);
  used += sdes.length;
  const BuildResult bye = build_rtcp_bye(std::span(out).subspan(used), leaving, "rekey");
  ASSERT_TRUE(bye.ok());
  used += bye.length;

  const std::span<const std::uint8_t> compound(out.data(), used);
  ASSERT_EQ(validate_rtcp_compound(compound), ParseError::None);
  RtcpCompoundReader reader(compound);
  RtcpPacket packet;
  ASSERT_TRUE(reader.next(packet));
  const auto parsed_rr = parse_receiver_report(packet);
  ASSERT_TRUE(parsed_rr.ok());
  EXPECT_EQ(parsed_rr->ssrc, 0x99u);
  ASSERT_EQ(parsed_rr->report_blocks.size(), 2u);
  EXPECT_EQ(parsed_rr->report_blocks[0].cumulative_lost, 1000);
  EXPECT_EQ(parsed_rr->report_blocks[0].highest_sequence, 70000u);
  EXPECT_EQ(parsed_rr->report_blocks[1].cumulative_lost, -8388608);
  ASSERT_TRUE(reader.next(packet));
  EXPECT_EQ(packet.packet_type, rtcp_type::kSourceDescription);
  ASSERT_TRUE(reader.next(packet));
  const auto parsed_bye = parse_bye(packet);
  ASSERT_TRUE(parsed_bye.ok());
  ASSERT_EQ(parsed_bye->source_count(), 2u);
  EXPECT_EQ(parsed_bye->source(1), 0xAAAA0002u);
  EXPECT_EQ(parsed_bye->reason, "rekey");
}

TEST(Rtcp, SenderReportBuilderRoundTripsAndChecksSpace) {
  std::array<ReportBlock, 31> blocks{};
  for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i].ssrc = static_cast<std::uint32_t>(i + 1);
  const SenderInfo info{0x0102030405060708, 160, 3, 480};
  std::vector<std::uint8_t> out(28 + 31 * 24);
  const BuildResult built = build_rtcp_sender_report(out, 0x5151, info, blocks);
  ASSERT_EQ(built.length, out.size());
  RtcpCompoundReader reader(view(out));
  RtcpPacket packet;
  ASSERT_TRUE(reader.next(packet));
  const auto sr = parse_sender_report(packet);
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(sr->sender_info.ntp_timestamp, info.ntp_timestamp);
  EXPECT_EQ(sr->sender_info.octet_count, 480u);
  ASSERT_EQ(sr->report_blocks.size(), 31u);
  EXPECT_EQ(sr->report_blocks[30].ssrc, 31u);

  std::vector<std::uint8_t> small(out.size() - 1);
  EXPECT_EQ(build_rtcp_sender_report(small, 1, info, blocks).error, BuildError::BufferTooSmall);
  std::array<ReportBlock, 32> too_many{};
  EXPECT_EQ(build_rtcp_sender_report(out, 1, info, too_many).error, BuildError::TooManyEntries);
  std::array<std::uint8_t, 8> tiny{};
  const std::array<std::uint32_t, 1> one = {1};
  EXPECT_EQ(build_rtcp_bye(tiny, one, "x").error, BuildError::BufferTooSmall);
  EXPECT_EQ(build_rtcp_bye(tiny, one).length, 8u);
}

TEST(Rtcp, ByeWithReasonBeyondPacket) {
  const auto bye = hex("81 cb 0002 12345678 09 616263");  // reason says 9 bytes, 3 present
  RtcpCompoundReader reader(view(bye));
  RtcpPacket packet;
  ASSERT_TRUE(reader.next(packet));
  EXPECT_EQ(parse_bye(packet).error(), ParseError::BadRtcpLength);
}

}  // namespace
}  // namespace mrfp::packet
