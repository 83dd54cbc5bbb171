#include "dataplane/packet/rtp.h"

#include "dataplane/packet/bytes.h"

namespace mrfp::packet {

std::uint32_t RtpPacket::csrc(std::size_t index) const {
  return load_be32(csrc_bytes.data() + index * 4);
}

BuildResult build_rtp_header(std::span<std::uint8_t> out, const RtpHeaderFields& fields) {
  if (fields.csrcs.size() > kMaximumCsrcCount) return BuildResult::failed(BuildError::TooManyEntries);
  if (fields.payload_type > 127) return BuildResult::failed(BuildError::BadArgument);
  const bool with_levels = fields.mixer_levels_extension_id != 0 && !fields.csrcs.empty();
  std::size_t extension_length = 0;  // body bytes, a multiple of 4
  if (with_levels) {
    // RFC 8285 §4.2: ids 1..14 in the one-byte form (15 is reserved).
    if (fields.mixer_levels_extension_id > 14 || fields.csrc_levels.size() != fields.csrcs.size()) {
      return BuildResult::failed(BuildError::BadArgument);
    }
    for (const std::uint8_t level : fields.csrc_levels) {
      if (level > 127) return BuildResult::failed(BuildError::BadArgument);
    }
    extension_length = (1 + fields.csrcs.size() + 3) / 4 * 4;
  }
  const std::size_t length = kRtpFixedHeaderLength + fields.csrcs.size() * 4 +
                             (with_levels ? 4 + extension_length : 0);
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);

  std::uint8_t* bytes = out.data();
  bytes[0] = static_cast<std::uint8_t>(0x80 | (with_levels ? 0x10 : 0) | fields.csrcs.size());
  bytes[1] = static_cast<std::uint8_t>((fields.marker ? 0x80 : 0) | fields.payload_type);
  store_be16(bytes + 2, fields.sequence);
  store_be32(bytes + 4, fields.timestamp);
  store_be32(bytes + 8, fields.ssrc);
  std::size_t offset = kRtpFixedHeaderLength;
  for (const std::uint32_t csrc : fields.csrcs) {
    store_be32(bytes + offset, csrc);
    offset += 4;
  }
  if (with_levels) {
    store_be16(bytes + offset, 0xBEDE);
    store_be16(bytes + offset + 2, static_cast<std::uint16_t>(extension_length / 4));
    offset += 4;
    const std::size_t body_start = offset;
    // RFC 6465 §3: ID | L = count - 1, then one byte per CSRC: 0 bit + 7-bit level.
    bytes[offset++] = static_cast<std::uint8_t>((fields.mixer_levels_extension_id << 4) |
                                                (fields.csrcs.size() - 1));
    for (const std::uint8_t level : fields.csrc_levels) bytes[offset++] = level;
    while (offset < body_start + extension_length) bytes[offset++] = 0;  // RFC 8285 §4.2 padding
  }
  return BuildResult::written(length);
}

}  // namespace mrfp::packet
