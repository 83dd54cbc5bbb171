// What every parser and builder of mrfp_packet returns: a view or a ParseError,
// a length or a BuildError. Small, trivially copyable, no allocation, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mrfp::packet {

enum class ParseError : std::uint8_t {
  None = 0,
  Truncated,               // fewer bytes than the fixed header needs
  BadVersion,              // IP version, RTP/RTCP version not 2
  BadHeaderLength,         // IPv4 IHL < 5 or header longer than the bytes
  BadTotalLength,          // IP / UDP length field disagrees with the bytes
  BadChecksum,             // IPv4 header, ICMP, ICMPv6 or UDP checksum
  Fragment,                // IPv4 MF/offset or IPv6 fragment header: caller drops and counts
  UnsupportedEtherType,    // 802.3 length field or an EtherType we do not handle
  UnsupportedProtocol,     // IP payload is not what the caller asked for
  ExtensionChainTooLong,   // IPv6 extension headers beyond our limit
  UnsupportedArp,          // not Ethernet/IPv4 ARP, or not request/reply
  UnsupportedIcmpType,     // not echo / neighbour solicitation / advertisement
  BadPadding,              // RTP/RTCP padding count zero or larger than the payload
  CsrcBeyondPacket,        // RTP CC names more CSRCs than the bytes hold
  ExtensionBeyondPacket,   // RTP header extension length beyond the bytes
  UnsupportedExtensionProfile,  // neither RFC 8285 one-byte nor two-byte form
  BadExtensionElement,     // RFC 8285 element length beyond the extension block
  ExtensionElementAbsent,  // the negotiated extension id is not in this packet
  BadRtcpLength,           // RTCP length field beyond the compound or too short for its type
  BadRtcpPacketType,       // asked to parse SR but got RR, etc.
  PaddingNotLast,          // RFC 3550 §6.4.1: only the last packet of a compound may pad
  BadOption,               // ICMPv6 ND option of length zero or beyond the message
};

std::string_view to_string(ParseError error);

template <class View>
class ParseResult {
 public:
  constexpr ParseResult(const View& view) : view_(view), error_(ParseError::None) {}
  constexpr ParseResult(ParseError error) : view_{}, error_(error) {}

  constexpr bool ok() const { return error_ == ParseError::None; }
  constexpr explicit operator bool() const { return ok(); }
  constexpr ParseError error() const { return error_; }
  constexpr const View& value() const { return view_; }
  constexpr const View* operator->() const { return &view_; }
  constexpr const View& operator*() const { return view_; }

 private:
  View view_;
  ParseError error_;
};

enum class BuildError : std::uint8_t {
  None = 0,
  BufferTooSmall,    // the caller's buffer cannot hold what would be written
  TooManyEntries,    // more CSRCs / report blocks / sources than the count field holds
  BadArgument,       // a field out of range (payload type > 127, level > 127, id 0/15, ...)
};

std::string_view to_string(BuildError error);

struct BuildResult {
  std::size_t length = 0;  // bytes written when ok()
  BuildError error = BuildError::None;

  constexpr bool ok() const { return error == BuildError::None; }
  constexpr explicit operator bool() const { return ok(); }
  static constexpr BuildResult written(std::size_t bytes) { return {bytes, BuildError::None}; }
  static constexpr BuildResult failed(BuildError why) { return {0, why}; }
};

}  // namespace mrfp::packet
