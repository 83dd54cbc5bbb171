#include "dataplane/packet/result.h"

namespace mrfp::packet {

std::string_view to_string(ParseError error) {
  switch (error) {
    case ParseError::None: return "none";
    case ParseError::Truncated: return "truncated";
    case ParseError::BadVersion: return "bad version";
    case ParseError::BadHeaderLength: return "bad header length";
    case ParseError::BadTotalLength: return "bad total length";
    case ParseError::BadChecksum: return "bad checksum";
    case ParseError::Fragment: return "fragment";
    case ParseError::UnsupportedEtherType: return "unsupported ethertype";
    case ParseError::UnsupportedProtocol: return "unsupported protocol";
    case ParseError::ExtensionChainTooLong: return "IPv6 extension header chain too long";
    case ParseError::UnsupportedArp: return "unsupported ARP";
    case ParseError::UnsupportedIcmpType: return "unsupported ICMP type";
    case ParseError::BadPadding: return "bad padding";
    case ParseError::CsrcBeyondPacket: return "CSRC list beyond packet";
    case ParseError::ExtensionBeyondPacket: return "RTP header extension beyond packet";
    case ParseError::UnsupportedExtensionProfile: return "unsupported RTP extension profile";
    case ParseError::BadExtensionElement: return "bad RTP header extension element";
    case ParseError::ExtensionElementAbsent: return "RTP header extension element absent";
    case ParseError::BadRtcpLength: return "bad RTCP length";
    case ParseError::BadRtcpPacketType: return "unexpected RTCP packet type";
    case ParseError::PaddingNotLast: return "RTCP padding before the last packet";
    case ParseError::BadOption: return "bad ICMPv6 option";
  }
  return "unknown";
}

std::string_view to_string(BuildError error) {
  switch (error) {
    case BuildError::None: return "none";
    case BuildError::BufferTooSmall: return "buffer too small";
    case BuildError::TooManyEntries: return "too many entries";
    case BuildError::BadArgument: return "bad argument";
  }
  return "unknown";
}

}  // namespace mrfp::packet
