// Byte-level facts of RTP/RTCP headers and of the SRTP IVs, as small inline
// functions the protocol layer composes.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/srtp/crypto_engine.h"

namespace mrfp::srtp {

inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline std::uint16_t load_be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

inline constexpr std::uint32_t kRtpFixedHeaderLen = 12;   // RFC 3550 §5.1
inline constexpr std::uint32_t kRtcpHeaderLen = 8;        // RFC 3711 §3.4: first 8 bytes stay clear
inline constexpr std::uint32_t kSrtcpIndexLen = 4;        // E flag || 31-bit SRTCP index
inline constexpr std::uint32_t kSrtcpEncryptedFlag = 0x80000000u;

// RFC 3550 §5.1/§5.3.1: fixed header, CSRCs, and the header extension when X
// is set. 0 if the packet is not version 2 or is shorter than its header.
inline std::uint32_t rtp_header_length(const std::uint8_t* data, std::uint32_t length) {
  if (length < kRtpFixedHeaderLen || (data[0] >> 6) != 2) return 0;
  std::uint32_t header = kRtpFixedHeaderLen + 4u * (data[0] & 0x0fu);
  if (data[0] & 0x10u) {
    if (length < header + 4) return 0;
    header += 4 + 4u * load_be16(data + header + 2);
  }
  return header <= length ? header : 0;
}

// The per-packet IV of either cipher family from the session salt, the SSRC
// and the 48-bit index (SRTP: ROC || SEQ; SRTCP: the 31-bit SRTCP index).
//   AES-CM, RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)
//   GCM, RFC 7714 §8.1 / §9.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt,
//   and for SRTCP 00 00 || SSRC || 00 00 || 0 || index, the same layout.
inline void build_iv(const SessionKeys& keys, std::uint32_t ssrc, std::uint64_t index,
                     std::array<std::uint8_t, 16>& iv) {
  iv = {};
  for (std::size_t i = 0; i < keys.salt_len; ++i) iv[i] = keys.salt[i];
  const std::size_t ssrc_at = keys.aead() ? 2 : 4;
  const std::size_t index_at = ssrc_at + 4;
  iv[ssrc_at + 0] ^= static_cast<std::uint8_t>(ssrc >> 24);
  iv[ssrc_at + 1] ^= static_cast<std::uint8_t>(ssrc >> 16);
  iv[ssrc_at + 2] ^= static_cast<std::uint8_t>(ssrc >> 8);
  iv[ssrc_at + 3] ^= static_cast<std::uint8_t>(ssrc);
  for (std::size_t byte = 0; byte < 6; ++byte) {
    iv[index_at + byte] ^= static_cast<std::uint8_t>(index >> (8 * (5 - byte)));
  }
}

// Tag comparison in time independent of where the bytes differ.
inline bool tags_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t length) {
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < length; ++i) diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace mrfp::srtp
