// RTP header (RFC 3550 §5.1), RFC 8285 extension elements, RFC 6464/6465 levels.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dataplane/packet/bytes.h"
#include "dataplane/packet/rtcp.h"
#include "dataplane/packet/rtp.h"
#include "dataplane/packet/rtp_extension.h"
#include "test_bytes.h"

namespace mrfp::packet {
namespace {

using test::hex;
using test::view;

// PCMU, seq 0x1234, ts 800, SSRC 0x11223344; one-byte extension holding an RFC 6464
// level (id 1, voice, 10 dBov) and padding; 4 payload bytes.
const std::vector<std::uint8_t> kRtpWithLevel =
    hex("90 00 1234 00000320 11223344 bede 0001 10 8a 00 00 ffffffff");

TEST(Rtp, ParsesPlainPacket) {
  const auto bytes = hex("80 80 0001 000000a0 deadbeef d5d5d5d5");
  const auto rtp = parse_rtp(view(bytes));
  ASSERT_TRUE(rtp.ok());
  EXPECT_TRUE(rtp->marker);
  EXPECT_EQ(rtp->payload_type, 0);
  EXPECT_EQ(rtp->sequence, 1);
  EXPECT_EQ(rtp->timestamp, 160u);
  EXPECT_EQ(rtp->ssrc, 0xdeadbeefu);
  EXPECT_EQ(rtp->csrc_count, 0);
  EXPECT_FALSE(rtp->has_extension);
  EXPECT_EQ(rtp->header_length, 12u);
  EXPECT_EQ(rtp->payload.size(), 4u);
}

TEST(Rtp, ParsesExtensionAndClientLevel) {
  const auto rtp = parse_rtp(view(kRtpWithLevel));
  ASSERT_TRUE(rtp.ok());
  EXPECT_EQ(rtp->sequence, 0x1234);
  EXPECT_EQ(rtp->timestamp, 800u);
  EXPECT_EQ(rtp->ssrc, 0x11223344u);
  EXPECT_TRUE(rtp->has_extension);
  EXPECT_EQ(rtp->extension_profile, kOneByteExtensionProfile);
  EXPECT_EQ(rtp->extension_data.size(), 4u);
  EXPECT_EQ(rtp->header_length, 20u);
  EXPECT_EQ(rtp->payload.size(), 4u);

  const auto level = client_audio_level(rtp.value(), 1);
  ASSERT_TRUE(level.ok());
  EXPECT_TRUE(level->voice_activity);
  EXPECT_EQ(level->level_dbov, 10);
  EXPECT_EQ(client_audio_level(rtp.value(), 2).error(), ParseError::ExtensionElementAbsent);
  EXPECT_EQ(client_audio_level(rtp.value(), 0).error(), ParseError::ExtensionElementAbsent);
}

TEST(Rtp, TruncatedAtEveryOffsetNamesTheMissingPart) {
  // CSRC list of 2, extension of 1 word, payload.
  const auto bytes = hex("92 00 0001 00000000 00000001 0000000a 0000000b bede 0001 10 7f 00 00 aa");
  ASSERT_TRUE(parse_rtp(view(bytes)).ok());
  for (std::size_t length = 0; length < bytes.size() - 1; ++length) {
    const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    const ParseError error = parse_rtp(view(prefix)).error();
    if (length < 12) {
      EXPECT_EQ(error, ParseError::Truncated) << length;
    } else if (length < 20) {
      EXPECT_EQ(error, ParseError::CsrcBeyondPacket) << length;
    } else {
      EXPECT_EQ(error, ParseError::ExtensionBeyondPacket) << length;
    }
  }
}

TEST(Rtp, EachMalformedFieldHasItsError) {
  auto version = hex("40 00 0001 00000000 00000001");
  EXPECT_EQ(parse_rtp(view(version)).error(), ParseError::BadVersion);

  auto csrcs = hex("8f 00 0001 00000000 00000001 00000002");  // CC 15, one CSRC present
  EXPECT_EQ(parse_rtp(view(csrcs)).error(), ParseError::CsrcBeyondPacket);

  auto extension = hex("90 00 0001 00000000 00000001 bede 0004 10 7f 00 00");  // claims 4 words, has 1
  EXPECT_EQ(parse_rtp(view(extension)).error(), ParseError::ExtensionBeyondPacket);

  // RFC 3550 §5.1 padding: count 3 on a 4-byte payload is fine; 5 is beyond; 0 invalid.
  auto padded = hex("a0 00 0001 00000000 00000001 aa 00 00 03");
  const auto good = parse_rtp(view(padded));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->padding_length, 3);
  EXPECT_EQ(good->payload.size(), 1u);
  padded.back() = 4;  // the whole payload is padding: allowed
  EXPECT_TRUE(parse_rtp(view(padded)).ok());
  padded.back() = 5;
  EXPECT_EQ(parse_rtp(view(padded)).error(), ParseError::BadPadding);
  padded.back() = 0;
  EXPECT_EQ(parse_rtp(view(padded)).error(), ParseError::BadPadding);
  // Under SRTP the padding count is encrypted: parse_rtp_header leaves it alone.
  EXPECT_TRUE(parse_rtp_header(view(padded)).ok());
  const auto no_payload = hex("a0 00 0001 00000000 00000001");
  EXPECT_EQ(parse_rtp(view(no_payload)).error(), ParseError::BadPadding);
}

TEST(RtpExtension, TwoByteFormAndPadding) {
  // 0x1000: id 1 len 1 [85], id 2 len 0, three padding bytes; then the payload.
  const auto bytes = hex("90 00 0001 00000000 00000001 1000 0002 01 01 85 02 00 00 00 00 cc");
  const auto rtp = parse_rtp(view(bytes));
  ASSERT_TRUE(rtp.ok());
  ExtensionElementReader reader(rtp->extension_profile, rtp->extension_data);
  ExtensionElement element;
  ASSERT_TRUE(reader.next(element));
  EXPECT_EQ(element.id, 1);
  ASSERT_EQ(element.data.size(), 1u);
  EXPECT_EQ(element.data[0], 0x85);
  ASSERT_TRUE(reader.next(element));
  EXPECT_EQ(element.id, 2);
  EXPECT_TRUE(element.data.empty());
  EXPECT_FALSE(reader.next(element));
  EXPECT_EQ(reader.error(), ParseError::None);

  const auto level = client_audio_level(rtp.value(), 1);
  ASSERT_TRUE(level.ok());
  EXPECT_TRUE(level->voice_activity);
  EXPECT_EQ(level->level_dbov, 5);
  EXPECT_EQ(client_audio_level(rtp.value(), 2).error(), ParseError::BadExtensionElement);
}

TEST(RtpExtension, MalformedElements) {
  const auto one_byte_overrun = hex("90 00 0001 00000000 00000001 bede 0001 13 01 02 03");  // L=3 needs 4 bytes
  const auto rtp = parse_rtp(view(one_byte_overrun));
  ASSERT_TRUE(rtp.ok());
  EXPECT_EQ(client_audio_level(rtp.value(), 1).error(), ParseError::BadExtensionElement);

  const auto two_byte_overrun = hex("90 00 0001 00000000 00000001 1000 0001 01 05 00 00");
  EXPECT_EQ(client_audio_level(parse_rtp(view(two_byte_overrun)).value(), 1).error(),
            ParseError::BadExtensionElement);

  const auto other_profile = hex("90 00 0001 00000000 00000001 abcd 0001 10 8a 00 00");
  EXPECT_EQ(client_audio_level(parse_rtp(view(other_profile)).value(), 1).error(),
            ParseError::UnsupportedExtensionProfile);

  // RFC 8285 §4.2: id 15 stops parsing; what follows is ignored, not an error.
  const auto reserved = hex("90 00 0001 00000000 00000001 bede 0001 f0 10 8a 00");
  EXPECT_EQ(client_audio_level(parse_rtp(view(reserved)).value(), 1).error(),
            ParseError::ExtensionElementAbsent);
  const auto before_reserved = hex("90 00 0001 00000000 00000001 bede 0001 10 8a f0 00");
  EXPECT_TRUE(client_audio_level(parse_rtp(view(before_reserved)).value(), 1).ok());
  // Id 0 with a length: parsing stops there, as for id 15.
  const auto zero_id = hex("90 00 0001 00000000 00000001 bede 0001 01 00 10 8a");
  EXPECT_EQ(client_audio_level(parse_rtp(view(zero_id)).value(), 1).error(),
            ParseError::ExtensionElementAbsent);
}

TEST(RtpBuilder, HeaderWithCsrcsAndMixerLevelsRoundTrips) {
  const std::array<std::uint32_t, 3> csrcs = {0xA1, 0xB2, 0xC3};
  const std::array<std::uint8_t, 3> levels = {3, 40, 127};
  RtpHeaderFields fields;
  fields.marker = true;
  fields.payload_type = 111;
  fields.sequence = 65535;
  fields.timestamp = 0xFFFFFF00;
  fields.ssrc = 0xCAFEF00D;
  fields.csrcs = csrcs;
  fields.mixer_levels_extension_id = 3;
  fields.csrc_levels = levels;
  std::array<std::uint8_t, 64> out{};
  const BuildResult built = build_rtp_header(out, fields);
  ASSERT_TRUE(built.ok());
  // 12 + 3*4 + 4 (extension header) + 4 (id/len byte + 3 levels) = 32
  EXPECT_EQ(built.length, 32u);
  EXPECT_EQ(built.length % 4, 0u);
  // RFC 6465 §3 in the RFC 8285 one-byte form: id 3, L = 3 - 1, then the levels.
  const auto expected = hex("93 ef ffff ffffff00 cafef00d 000000a1 000000b2 000000c3 bede 0001 32 03 28 7f");
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 32), expected);
  out[built.length] = 0x55;  // one payload byte

  const auto rtp = parse_rtp(std::span<const std::uint8_t>(out).first(built.length + 1));
  ASSERT_TRUE(rtp.ok());
  EXPECT_TRUE(rtp->marker);
  EXPECT_EQ(rtp->payload_type, 111);
  EXPECT_EQ(rtp->sequence, 65535);
  EXPECT_EQ(rtp->timestamp, 0xFFFFFF00u);
  EXPECT_EQ(rtp->ssrc, 0xCAFEF00Du);
  ASSERT_EQ(rtp->csrc_count, 3);
  for (std::size_t i = 0; i < csrcs.size(); ++i) EXPECT_EQ(rtp->csrc(i), csrcs[i]);
  EXPECT_EQ(rtp->payload.size(), 1u);
  std::array<std::uint8_t, 15> parsed_levels{};
  const auto count = mixer_audio_levels(rtp.value(), 3, parsed_levels);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(count.value(), 3u);
  for (std::size_t i = 0; i < levels.size(); ++i) EXPECT_EQ(parsed_levels[i], levels[i]);
}

TEST(RtpBuilder, FifteenCsrcsAndErrors) {
  std::array<std::uint32_t, 16> csrcs{};
  std::array<std::uint8_t, 16> levels{};
  for (std::uint32_t i = 0; i < 16; ++i) csrcs[i] = 100 + i;
  RtpHeaderFields fields;
  fields.csrcs = std::span<const std::uint32_t>(csrcs).first(15);
  fields.mixer_levels_extension_id = 14;
  fields.csrc_levels = std::span<const std::uint8_t>(levels).first(15);
  std::array<std::uint8_t, 128> out{};
  const BuildResult built = build_rtp_header(out, fields);
  ASSERT_TRUE(built.ok());
  const auto rtp = parse_rtp(std::span<const std::uint8_t>(out).first(built.length));
  ASSERT_TRUE(rtp.ok());
  EXPECT_EQ(rtp->csrc_count, 15);
  EXPECT_EQ(rtp->csrc(14), 114u);

  for (std::size_t size = 0; size < built.length; ++size) {
    std::vector<std::uint8_t> small(size);
    EXPECT_EQ(build_rtp_header(small, fields).error, BuildError::BufferTooSmall) << size;
  }
  RtpHeaderFields too_many = fields;
  too_many.csrcs = csrcs;
  EXPECT_EQ(build_rtp_header(out, too_many).error, BuildError::TooManyEntries);
  RtpHeaderFields bad_id = fields;
  bad_id.mixer_levels_extension_id = 15;
  EXPECT_EQ(build_rtp_header(out, bad_id).error, BuildError::BadArgument);
  RtpHeaderFields bad_level = fields;
  levels[0] = 128;
  EXPECT_EQ(build_rtp_header(out, bad_level).error, BuildError::BadArgument);
  RtpHeaderFields bad_pt = fields;
  bad_pt.payload_type = 128;
  EXPECT_EQ(build_rtp_header(out, bad_pt).error, BuildError::BadArgument);

  // No CSRCs: no extension even with an id.
  RtpHeaderFields plain;
  plain.mixer_levels_extension_id = 3;
  EXPECT_EQ(build_rtp_header(out, plain).length, 12u);
  EXPECT_EQ(out[0], 0x80);
}

TEST(Rtp, TellsRtpFromRtcpOnAMultiplexedPort) {
  // RFC 5761 §4: second byte 192..223 is RTCP.
  EXPECT_FALSE(is_rtcp_on_multiplexed_port(view(kRtpWithLevel)));
  const auto marker_pt_0 = hex("80 80 0001");
  EXPECT_FALSE(is_rtcp_on_multiplexed_port(view(marker_pt_0)));
  for (int type = 0; type < 256; ++type) {
    const std::vector<std::uint8_t> two = {0x80, static_cast<std::uint8_t>(type)};
    EXPECT_EQ(is_rtcp_on_multiplexed_port(view(two)), type >= 192 && type <= 223) << type;
  }
  const std::vector<std::uint8_t> one = {0x80};
  EXPECT_FALSE(is_rtcp_on_multiplexed_port(view(one)));
}

}  // namespace
}  // namespace mrfp::packet
