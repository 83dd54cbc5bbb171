// RTP header extension elements (RFC 8285 one-byte 0xBEDE and two-byte 0x100X
// forms) and the audio level elements that ride in them: RFC 6464 client-to-mixer
// (voice flag + level) and RFC 6465 mixer-to-client (one level per CSRC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/result.h"
#include "dataplane/packet/rtp.h"

namespace mrfp::packet {

inline constexpr std::uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr std::uint16_t kTwoByteExtensionProfileMask = 0xFFF0;  // 0x100X, X: appbits
inline constexpr std::uint16_t kTwoByteExtensionProfile = 0x1000;

struct ExtensionElement {
  std::uint8_t id = 0;
  std::span<const std::uint8_t> data;
};

// Walks the elements of one extension block. Usage:
//   ExtensionElementReader reader(rtp.extension_profile, rtp.extension_data);
//   for (ExtensionElement element; reader.next(element);) { ... }
//   if (reader.error() != ParseError::None) { malformed }
class ExtensionElementReader {
 public:
  ExtensionElementReader(std::uint16_t profile, std::span<const std::uint8_t> data);

  // Fills element and returns true; false at the end or on error (see error()).
  bool next(ExtensionElement& element);
  // None after a clean end; UnsupportedExtensionProfile or BadExtensionElement.
  ParseError error() const { return error_; }

 private:
  bool next_one_byte(ExtensionElement& element);
  bool next_two_byte(ExtensionElement& element);

  std::span<const std::uint8_t> remaining_;
  bool one_byte_form_ = false;
  ParseError error_ = ParseError::None;
};

// The first element with this id. Errors: ExtensionElementAbsent (no extension
// or no such id), UnsupportedExtensionProfile, BadExtensionElement.
ParseResult<ExtensionElement> find_extension_element(const RtpPacket& rtp, std::uint8_t id);

struct ClientAudioLevel {
  bool voice_activity = false;  // V flag
  std::uint8_t level_dbov = 0;  // 0..127, as -dBov: 0 loudest, 127 silence
};

// RFC 6464 §3 client-to-mixer audio level with the negotiated id. Errors: those of
// find_extension_element, BadExtensionElement when the element is empty.
ParseResult<ClientAudioLevel> client_audio_level(const RtpPacket& rtp, std::uint8_t extension_id);

// RFC 6465 §3 mixer-to-client levels: copies up to levels.size() levels (7-bit,
// -dBov) into levels and returns how many the element holds (one per CSRC).
ParseResult<std::size_t> mixer_audio_levels(const RtpPacket& rtp, std::uint8_t extension_id,
                                            std::span<std::uint8_t> levels);

}  // namespace mrfp::packet
