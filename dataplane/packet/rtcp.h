// RTCP (RFC 3550 §6): walking a compound packet, reading SR, RR and BYE, and
// building SR, RR, SDES CNAME and BYE. Plain RTCP only: the SRTCP trailer (E bit,
// index, MKI, tag) is removed by the SRTP engine before these see the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/packet/result.h"

namespace mrfp::packet {

namespace rtcp_type {
inline constexpr std::uint8_t kSenderReport = 200;
inline constexpr std::uint8_t kReceiverReport = 201;
inline constexpr std::uint8_t kSourceDescription = 202;
inline constexpr std::uint8_t kBye = 203;
inline constexpr std::uint8_t kApplication = 204;
inline constexpr std::uint8_t kTransportFeedback = 205;  // RFC 4585
inline constexpr std::uint8_t kPayloadFeedback = 206;    // RFC 4585
inline constexpr std::uint8_t kExtendedReport = 207;     // RFC 3611
}  // namespace rtcp_type

inline constexpr std::size_t kRtcpHeaderLength = 4;
inline constexpr std::size_t kReportBlockLength = 24;
inline constexpr std::size_t kSenderInfoLength = 20;
inline constexpr std::size_t kMaximumReportBlocks = 31;  // the 5-bit RC field

// One packet of a compound: its common header and its bytes.
struct RtcpPacket {
  std::uint8_t packet_type = 0;
  std::uint8_t count = 0;  // RC, SC or APP subtype: the 5 low bits of the first octet
  bool padding = false;
  std::span<const std::uint8_t> bytes;  // the whole packet as framed by its length field
  std::span<const std::uint8_t> body;   // after the 4-byte header, padding removed
};

// Walks the packets of a compound (RFC 3550 §6.1). Usage:
//   RtcpCompoundReader reader(bytes);
//   for (RtcpPacket packet; reader.next(packet);) { switch (packet.packet_type) ... }
//   if (reader.error() != ParseError::None) { drop the rest, count malformed }
// Per packet: Truncated (under 4 bytes left), BadVersion, BadRtcpLength (length
// field beyond the compound), PaddingNotLast, BadPadding.
class RtcpCompoundReader {
 public:
  explicit RtcpCompoundReader(std::span<const std::uint8_t> compound) : remaining_(compound) {}
  bool next(RtcpPacket& packet);
  ParseError error() const { return error_; }

 private:
  std::span<const std::uint8_t> remaining_;
  ParseError error_ = ParseError::None;
};

// Walks the whole compound: None when every packet is well formed and there is at
// least one, else the first error (Truncated for an empty buffer).
ParseError validate_rtcp_compound(std::span<const std::uint8_t> compound);

// RFC 5761 §4: on a port shared by RTP and RTCP, a second octet of 192..223 (RTCP
// packet types 192..223 seen as M bit + payload type 64..95) is RTCP.
bool is_rtcp_on_multiplexed_port(std::span<const std::uint8_t> packet);

struct SenderInfo {
  std::uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
};

struct ReportBlock {
  std::uint32_t ssrc = 0;
  std::uint8_t fraction_lost = 0;          // 8-bit fixed point fraction
  std::int32_t cumulative_lost = 0;        // 24-bit signed (RFC 3550 §6.4.1)
  std::uint32_t highest_sequence = 0;      // extended highest sequence number received
  std::uint32_t jitter = 0;                // interarrival jitter in timestamp units
  std::uint32_t last_sender_report = 0;    // LSR: middle 32 bits of the NTP timestamp
  std::uint32_t delay_since_last_sender_report = 0;  // DLSR, 1/65536 s
};

// Report blocks of an SR or RR, read on demand from the caller's bytes.
struct ReportBlocks {
  std::span<const std::uint8_t> bytes;
  std::size_t size() const { return bytes.size() / kReportBlockLength; }
  ReportBlock operator[](std::size_t index) const;
};

struct SenderReport {
  std::uint32_t ssrc = 0;
  SenderInfo sender_info;
  ReportBlocks report_blocks;
};

struct ReceiverReport {
  std::uint32_t ssrc = 0;
  ReportBlocks report_blocks;
};

struct Bye {
  std::span<const std::uint8_t> source_bytes;
  std::size_t source_count() const { return source_bytes.size() / 4; }
  std::uint32_t source(std::size_t index) const;
  std::string_view reason;  // empty when absent
};

// Errors: BadRtcpPacketType (not an SR / RR / BYE), BadRtcpLength (the count
// field names more than the body holds).
ParseResult<SenderReport> parse_sender_report(const RtcpPacket& packet);
ParseResult<ReceiverReport> parse_receiver_report(const RtcpPacket& packet);
ParseResult<Bye> parse_bye(const RtcpPacket& packet);

// Builders append one packet at the start of out; build a compound by calling them
// one after the other on the rest of the buffer (RFC 3550 §6.1: SR or RR first,
// then SDES with a CNAME). Errors: BufferTooSmall, TooManyEntries (more than 31).
BuildResult build_rtcp_sender_report(std::span<std::uint8_t> out, std::uint32_t ssrc,
                                     const SenderInfo& sender_info,
                                     std::span<const ReportBlock> report_blocks);
BuildResult build_rtcp_receiver_report(std::span<std::uint8_t> out, std::uint32_t ssrc,
                                       std::span<const ReportBlock> report_blocks);
// RFC 3550 §6.5: one chunk, one CNAME item (at most 255 bytes), null-terminated and
// padded to 32 bits.
BuildResult build_rtcp_sdes_cname(std::span<std::uint8_t> out, std::uint32_t ssrc,
                                  std::string_view cname);
// RFC 3550 §6.6: the sources leaving, and an optional reason (at most 255 bytes).
BuildResult build_rtcp_bye(std::span<std::uint8_t> out, std::span<const std::uint32_t> sources,
                           std::string_view reason = {});

}  // namespace mrfp::packet
