// RTP fixed header (RFC 3550 §5.1), CSRC list, header extension (§5.3.1) and
// padding. Two entry points because SRTP encrypts the padding count: on a packet
// still under SRTP call parse_rtp_header (padding untouched, payload runs to the
// end, auth tag included); after unprotect call parse_rtp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/bytes.h"
#include "dataplane/packet/result.h"

namespace mrfp::packet {

inline constexpr std::size_t kRtpFixedHeaderLength = 12;
inline constexpr std::size_t kMaximumCsrcCount = 15;

struct RtpPacket {
  bool padding = false;
  bool has_extension = false;
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint8_t csrc_count = 0;
  std::span<const std::uint8_t> csrc_bytes;      // csrc_count * 4 bytes: read with csrc(i)
  std::uint16_t extension_profile = 0;          // "defined by profile" (0xBEDE, 0x100X, ...)
  std::span<const std::uint8_t> extension_data;  // the extension body, without its 4-byte header
  std::size_t header_length = 0;                 // fixed + CSRCs + extension
  std::uint8_t padding_length = 0;               // 0 unless parsed by parse_rtp with P set
  std::span<const std::uint8_t> payload;

  // CSRC i (i < csrc_count), read from the caller's buffer.
  std::uint32_t csrc(std::size_t index) const;
};

// Errors: Truncated (under 12 bytes), BadVersion, CsrcBeyondPacket,
// ExtensionBeyondPacket. Padding is not interpreted.
ParseResult<RtpPacket> parse_rtp_header(std::span<const std::uint8_t> packet);

// As parse_rtp_header, then RFC 3550 §5.1 padding: the last octet counts the
// padding octets including itself. Extra error: BadPadding (count 0 or beyond the
// payload).
ParseResult<RtpPacket> parse_rtp(std::span<const std::uint8_t> packet);

struct RtpHeaderFields {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::span<const std::uint32_t> csrcs;  // at most 15: who is heard in this packet
  // RFC 6465 mixer-to-client audio levels in the one-byte form (RFC 8285 §4.2):
  // the negotiated id (1..14; 0: no extension) and one level per CSRC, in the
  // same order, each 0..127 -dBov. Ignored when there are no CSRCs.
  std::uint8_t mixer_levels_extension_id = 0;
  std::span<const std::uint8_t> csrc_levels;
};

// Writes the header (fixed, CSRCs, optional extension) at the start of out; the
// payload goes after the returned length. Errors: BufferTooSmall, TooManyEntries
// (more than 15 CSRCs), BadArgument (payload type > 127, extension id outside
// 1..14, a level > 127, or level count differing from the CSRC count).
BuildResult build_rtp_header(std::span<std::uint8_t> out, const RtpHeaderFields& fields);

// Defined here, inline, because every received packet is parsed on the hot
// path: seen through, the result is built in place in the caller instead of
// being copied field by field across two calls (out of line, perf put nearly
// all of parse_rtp's samples on that copy's wide loads: a store-forwarding stall).
inline ParseResult<RtpPacket> parse_rtp_header(std::span<const std::uint8_t> packet) {
  if (packet.size() < kRtpFixedHeaderLength) return ParseError::Truncated;
  const std::uint8_t* bytes = packet.data();
  // RFC 3550 §5.1: V(2) P(1) X(1) CC(4) | M(1) PT(7) | sequence | timestamp | SSRC.
  if ((bytes[0] >> 6) != 2) return ParseError::BadVersion;
  RtpPacket rtp;
  rtp.padding = (bytes[0] & 0x20) != 0;
  rtp.has_extension = (bytes[0] & 0x10) != 0;
  rtp.csrc_count = bytes[0] & 0x0F;
  rtp.marker = (bytes[1] & 0x80) != 0;
  rtp.payload_type = bytes[1] & 0x7F;
  rtp.sequence = load_be16(bytes + 2);
  rtp.timestamp = load_be32(bytes + 4);
  rtp.ssrc = load_be32(bytes + 8);

  std::size_t offset = kRtpFixedHeaderLength;
  const std::size_t csrc_length = std::size_t{rtp.csrc_count} * 4;
  if (packet.size() < offset + csrc_length) return ParseError::CsrcBeyondPacket;
  rtp.csrc_bytes = packet.subspan(offset, csrc_length);
  offset += csrc_length;

  if (rtp.has_extension) {
    // RFC 3550 §5.3.1: 16-bit profile-defined field, 16-bit length in 32-bit words
    // not counting this 4-byte header.
    if (packet.size() < offset + 4) return ParseError::ExtensionBeyondPacket;
    rtp.extension_profile = load_be16(bytes + offset);
    const std::size_t extension_length = std::size_t{load_be16(bytes + offset + 2)} * 4;
    offset += 4;
    if (packet.size() - offset < extension_length) return ParseError::ExtensionBeyondPacket;
    rtp.extension_data = packet.subspan(offset, extension_length);
    offset += extension_length;
  }
  rtp.header_length = offset;
  rtp.payload = packet.subspan(offset);
  return rtp;
}

inline ParseResult<RtpPacket> parse_rtp(std::span<const std::uint8_t> packet) {
  ParseResult<RtpPacket> parsed = parse_rtp_header(packet);
  if (!parsed || !parsed->padding) return parsed;
  RtpPacket rtp = parsed.value();
  // RFC 3550 §5.1: the last octet of the padding holds how many octets to ignore,
  // itself included; it cannot be 0 and cannot reach into the header.
  if (rtp.payload.empty()) return ParseError::BadPadding;
  const std::uint8_t padding_length = rtp.payload.back();
  if (padding_length == 0 || padding_length > rtp.payload.size()) return ParseError::BadPadding;
  rtp.padding_length = padding_length;
  rtp.payload = rtp.payload.first(rtp.payload.size() - padding_length);
  return rtp;
}

}  // namespace mrfp::packet
