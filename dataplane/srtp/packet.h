// One packet of a burst as the SRTP layer sees it: bytes protected or
// unprotected in place, and the per-packet result. Never an exception.
#pragma once

#include <cstdint>
#include <string_view>

namespace mrfp::srtp {

enum class PacketStatus : std::uint8_t {
  Ok,
  AuthFailed,    // RFC 3711 §3.3 step 5: tag mismatch (or AEAD tag, RFC 7714 §9.2)
  Replayed,      // RFC 3711 §3.3.2: index already seen inside the window
  TooOld,        // RFC 3711 §3.3.2: index left of the replay window
  Malformed,     // truncated, not RTP/RTCP version 2, header longer than the packet
  NoRoom,        // protect: capacity cannot hold MKI + tag (+ SRTCP index)
  UnknownMki,    // RFC 3711 §3.1: no master key with this MKI on the context
  KeyExpired,    // RFC 3711 §9.2: 2^48 SRTP / 2^31 SRTCP packets under one master key
  NoContext,     // no cryptographic context for the packet's SSRC
  EngineError,   // the crypto engine refused the job (a bug, or a device failure)
};

constexpr std::string_view to_string(PacketStatus status) {
  switch (status) {
    case PacketStatus::Ok: return "ok";
    case PacketStatus::AuthFailed: return "authentication failed";
    case PacketStatus::Replayed: return "replayed";
    case PacketStatus::TooOld: return "too old";
    case PacketStatus::Malformed: return "malformed";
    case PacketStatus::NoRoom: return "no room for the tag";
    case PacketStatus::UnknownMki: return "unknown MKI";
    case PacketStatus::KeyExpired: return "key expired";
    case PacketStatus::NoContext: return "no context";
    case PacketStatus::EngineError: return "engine error";
  }
  return "?";
}

// A packet buffer: `length` valid bytes at `data`, `capacity` bytes writable.
// protect() grows `length` by the MKI and tag (and the SRTCP E||index word);
// unprotect() shrinks it back. `status` is written for every packet; when it
// is not Ok the bytes may have been changed and must be dropped, not forwarded.
struct PacketView {
  std::uint8_t* data = nullptr;
  std::uint32_t length = 0;
  std::uint32_t capacity = 0;
  PacketStatus status = PacketStatus::Ok;
};

}  // namespace mrfp::srtp
