#include "dataplane/packet/rtp_extension.h"

#include <algorithm>

namespace mrfp::packet {

ExtensionElementReader::ExtensionElementReader(std::uint16_t profile,
                                               std::span<const std::uint8_t> data)
    : remaining_(data) {
  if (profile == kOneByteExtensionProfile) {
    one_byte_form_ = true;
  } else if ((profile & kTwoByteExtensionProfileMask) != kTwoByteExtensionProfile) {
    error_ = ParseError::UnsupportedExtensionProfile;
    remaining_ = {};
  }
}

bool ExtensionElementReader::next(ExtensionElement& element) {
  if (error_ != ParseError::None) return false;
  return one_byte_form_ ? next_one_byte(element) : next_two_byte(element);
}

bool ExtensionElementReader::next_one_byte(ExtensionElement& element) {
  while (!remaining_.empty()) {
    const std::uint8_t id = remaining_[0] >> 4;
    // RFC 8285 §4.2: a zero byte is padding; id 15 is reserved and stops parsing
    // (the rest of the block is ignored, not an error). Id 0 with a non-zero
    // length is undefined: stop there too, as libwebrtc does.
    if (remaining_[0] == 0) {
      remaining_ = remaining_.subspan(1);
      continue;
    }
    if (id == 15 || id == 0) {
      remaining_ = {};
      return false;
    }
    const std::size_t length = static_cast<std::size_t>(remaining_[0] & 0x0F) + 1;
    if (remaining_.size() < 1 + length) {
      error_ = ParseError::BadExtensionElement;
      return false;
    }
    element.id = id;
    element.data = remaining_.subspan(1, length);
    remaining_ = remaining_.subspan(1 + length);
    return true;
  }
  return false;
}

bool ExtensionElementReader::next_two_byte(ExtensionElement& element) {
  while (!remaining_.empty()) {
    // RFC 8285 §4.3: a zero byte (id 0) is padding; otherwise id, length, data.
    if (remaining_[0] == 0) {
      remaining_ = remaining_.subspan(1);
      continue;
    }
    if (remaining_.size() < 2) {
      error_ = ParseError::BadExtensionElement;
      return false;
    }
    const std::size_t length = remaining_[1];
    if (remaining_.size() < 2 + length) {
      error_ = ParseError::BadExtensionElement;
      return false;
    }
    element.id = remaining_[0];
    element.data = remaining_.subspan(2, length);
    remaining_ = remaining_.subspan(2 + length);
    return true;
  }
  return false;
}

ParseResult<ExtensionElement> find_extension_element(const RtpPacket& rtp, std::uint8_t id) {
  if (!rtp.has_extension || id == 0) return ParseError::ExtensionElementAbsent;
  ExtensionElementReader reader(rtp.extension_profile, rtp.extension_data);
  for (ExtensionElement element; reader.next(element);) {
    if (element.id == id) return element;
  }
  if (reader.error() != ParseError::None) return reader.error();
  return ParseError::ExtensionElementAbsent;
}

ParseResult<ClientAudioLevel> client_audio_level(const RtpPacket& rtp, std::uint8_t extension_id) {
  const ParseResult<ExtensionElement> element = find_extension_element(rtp, extension_id);
  if (!element) return element.error();
  if (element->data.empty()) return ParseError::BadExtensionElement;
  // RFC 6464 §3: V(1) | level(7). Extra bytes (two-byte form padding) are ignored.
  const std::uint8_t byte = element->data[0];
  return ClientAudioLevel{(byte & 0x80) != 0, static_cast<std::uint8_t>(byte & 0x7F)};
}

ParseResult<std::size_t> mixer_audio_levels(const RtpPacket& rtp, std::uint8_t extension_id,
                                            std::span<std::uint8_t> levels) {
  const ParseResult<ExtensionElement> element = find_extension_element(rtp, extension_id);
  if (!element) return element.error();
  const std::size_t count = element->data.size();
  const std::size_t copied = std::min(count, levels.size());
  for (std::size_t index = 0; index < copied; ++index) levels[index] = element->data[index] & 0x7F;
  return count;
}

}  // namespace mrfp::packet
