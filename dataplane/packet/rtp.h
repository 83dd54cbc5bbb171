// RTP fixed header (RFC 3550 §5.1), CSRC list, header extension (§5.3.1) and
// padding. Two entry points because SRTP encrypts the padding count: on a packet
// still under SRTP call parse_rtp_header (padding untouched, payload runs to the
// end, auth tag included); after unprotect call parse_rtp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

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

}  // namespace mrfp::packet
