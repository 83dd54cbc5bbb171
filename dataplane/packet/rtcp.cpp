#include "dataplane/packet/rtcp.h"

#include <algorithm>

#include "dataplane/packet/bytes.h"

namespace mrfp::packet {

bool RtcpCompoundReader::next(RtcpPacket& packet) {
  if (error_ != ParseError::None || remaining_.empty()) return false;
  const auto fail = [this](ParseError error) {
    error_ = error;
    remaining_ = {};
    return false;
  };
  if (remaining_.size() < kRtcpHeaderLength) return fail(ParseError::Truncated);
  const std::uint8_t* bytes = remaining_.data();
  // RFC 3550 §6.4.1: V(2) P(1) count(5) | PT(8) | length in 32-bit words minus one.
  if ((bytes[0] >> 6) != 2) return fail(ParseError::BadVersion);
  const std::size_t length = (std::size_t{load_be16(bytes + 2)} + 1) * 4;
  if (length > remaining_.size()) return fail(ParseError::BadRtcpLength);
  packet.padding = (bytes[0] & 0x20) != 0;
  packet.count = bytes[0] & 0x1F;
  packet.packet_type = bytes[1];
  packet.bytes = remaining_.first(length);
  packet.body = packet.bytes.subspan(kRtcpHeaderLength);
  remaining_ = remaining_.subspan(length);
  if (packet.padding) {
    // RFC 3550 §6.4.1: padding only on the last packet of a compound; its last
    // octet counts the padding octets, itself included.
    if (!remaining_.empty()) return fail(ParseError::PaddingNotLast);
    const std::uint8_t padding_length = packet.bytes.back();
    if (padding_length == 0 || padding_length > packet.body.size()) return fail(ParseError::BadPadding);
    packet.body = packet.body.first(packet.body.size() - padding_length);
  }
  return true;
}

ParseError validate_rtcp_compound(std::span<const std::uint8_t> compound) {
  if (compound.empty()) return ParseError::Truncated;
  RtcpCompoundReader reader(compound);
  for (RtcpPacket packet; reader.next(packet);) {
  }
  return reader.error();
}

bool is_rtcp_on_multiplexed_port(std::span<const std::uint8_t> packet) {
  return packet.size() >= 2 && packet[1] >= 192 && packet[1] <= 223;
}

ReportBlock ReportBlocks::operator[](std::size_t index) const {
  const std::uint8_t* block = bytes.data() + index * kReportBlockLength;
  ReportBlock report;
  report.ssrc = load_be32(block);
  report.fraction_lost = block[4];
  // 24-bit two's complement: sign-extend.
  const std::uint32_t lost = load_be24(block + 5);
  report.cumulative_lost = static_cast<std::int32_t>(lost << 8) >> 8;
  report.highest_sequence = load_be32(block + 8);
  report.jitter = load_be32(block + 12);
  report.last_sender_report = load_be32(block + 16);
  report.delay_since_last_sender_report = load_be32(block + 20);
  return report;
}

std::uint32_t Bye::source(std::size_t index) const {
  return load_be32(source_bytes.data() + index * 4);
}

ParseResult<SenderReport> parse_sender_report(const RtcpPacket& packet) {
  if (packet.packet_type != rtcp_type::kSenderReport) return ParseError::BadRtcpPacketType;
  // RFC 3550 §6.4.1: SSRC, 20 bytes of sender info, RC report blocks, then
  // profile-specific extensions we ignore.
  const std::size_t reports_length = std::size_t{packet.count} * kReportBlockLength;
  if (packet.body.size() < 4 + kSenderInfoLength + reports_length) return ParseError::BadRtcpLength;
  const std::uint8_t* body = packet.body.data();
  SenderReport report;
  report.ssrc = load_be32(body);
  report.sender_info.ntp_timestamp = load_be64(body + 4);
  report.sender_info.rtp_timestamp = load_be32(body + 12);
  report.sender_info.packet_count = load_be32(body + 16);
  report.sender_info.octet_count = load_be32(body + 20);
  report.report_blocks.bytes = packet.body.subspan(4 + kSenderInfoLength, reports_length);
  return report;
}

ParseResult<ReceiverReport> parse_receiver_report(const RtcpPacket& packet) {
  if (packet.packet_type != rtcp_type::kReceiverReport) return ParseError::BadRtcpPacketType;
  const std::size_t reports_length = std::size_t{packet.count} * kReportBlockLength;
  if (packet.body.size() < 4 + reports_length) return ParseError::BadRtcpLength;
  ReceiverReport report;
  report.ssrc = load_be32(packet.body.data());
  report.report_blocks.bytes = packet.body.subspan(4, reports_length);
  return report;
}

ParseResult<Bye> parse_bye(const RtcpPacket& packet) {
  if (packet.packet_type != rtcp_type::kBye) return ParseError::BadRtcpPacketType;
  const std::size_t sources_length = std::size_t{packet.count} * 4;
  if (packet.body.size() < sources_length) return ParseError::BadRtcpLength;
  Bye bye;
  bye.source_bytes = packet.body.first(sources_length);
  // RFC 3550 §6.6: optional length-prefixed reason after the sources.
  const std::span<const std::uint8_t> rest = packet.body.subspan(sources_length);
  if (!rest.empty() && rest[0] != 0) {
    const std::size_t reason_length = rest[0];
    if (rest.size() < 1 + reason_length) return ParseError::BadRtcpLength;
    bye.reason = std::string_view(reinterpret_cast<const char*>(rest.data() + 1), reason_length);
  }
  return bye;
}

namespace {

void write_header(std::uint8_t* bytes, std::size_t count, std::uint8_t type, std::size_t length) {
  bytes[0] = static_cast<std::uint8_t>(0x80 | count);
  bytes[1] = type;
  store_be16(bytes + 2, static_cast<std::uint16_t>(length / 4 - 1));
}

void write_report_blocks(std::uint8_t* bytes, std::span<const ReportBlock> blocks) {
  for (const ReportBlock& block : blocks) {
    store_be32(bytes, block.ssrc);
    bytes[4] = block.fraction_lost;
    const std::int32_t lost = std::clamp<std::int32_t>(block.cumulative_lost, -0x800000, 0x7FFFFF);
    store_be24(bytes + 5, static_cast<std::uint32_t>(lost) & 0xFFFFFF);
    store_be32(bytes + 8, block.highest_sequence);
    store_be32(bytes + 12, block.jitter);
    store_be32(bytes + 16, block.last_sender_report);
    store_be32(bytes + 20, block.delay_since_last_sender_report);
    bytes += kReportBlockLength;
  }
}

}  // namespace

BuildResult build_rtcp_sender_report(std::span<std::uint8_t> out, std::uint32_t ssrc,
                                     const SenderInfo& sender_info,
                                     std::span<const ReportBlock> report_blocks) {
  if (report_blocks.size() > kMaximumReportBlocks) return BuildResult::failed(BuildError::TooManyEntries);
  const std::size_t length =
      kRtcpHeaderLength + 4 + kSenderInfoLength + report_blocks.size() * kReportBlockLength;
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);
  std::uint8_t* bytes = out.data();
  write_header(bytes, report_blocks.size(), rtcp_type::kSenderReport, length);
  store_be32(bytes + 4, ssrc);
  store_be64(bytes + 8, sender_info.ntp_timestamp);
  store_be32(bytes + 16, sender_info.rtp_timestamp);
  store_be32(bytes + 20, sender_info.packet_count);
  store_be32(bytes + 24, sender_info.octet_count);
  write_report_blocks(bytes + 28, report_blocks);
  return BuildResult::written(length);
}

BuildResult build_rtcp_receiver_report(std::span<std::uint8_t> out, std::uint32_t ssrc,
                                       std::span<const ReportBlock> report_blocks) {
  if (report_blocks.size() > kMaximumReportBlocks) return BuildResult::failed(BuildError::TooManyEntries);
  const std::size_t length = kRtcpHeaderLength + 4 + report_blocks.size() * kReportBlockLength;
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);
  write_header(out.data(), report_blocks.size(), rtcp_type::kReceiverReport, length);
  store_be32(out.data() + 4, ssrc);
  write_report_blocks(out.data() + 8, report_blocks);
  return BuildResult::written(length);
}

BuildResult build_rtcp_sdes_cname(std::span<std::uint8_t> out, std::uint32_t ssrc,
                                  std::string_view cname) {
  if (cname.size() > 255) return BuildResult::failed(BuildError::BadArgument);
  // Chunk: SSRC, item CNAME(1) length text, then a null item ending the list and
  // padding to the next 32-bit boundary (RFC 3550 §6.5).
  const std::size_t chunk_length = (4 + 2 + cname.size() + 1 + 3) / 4 * 4;
  const std::size_t length = kRtcpHeaderLength + chunk_length;
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);
  std::uint8_t* bytes = out.data();
  std::fill(bytes, bytes + length, std::uint8_t{0});
  write_header(bytes, 1, rtcp_type::kSourceDescription, length);
  store_be32(bytes + 4, ssrc);
  bytes[8] = 1;  // CNAME
  bytes[9] = static_cast<std::uint8_t>(cname.size());
  std::copy(cname.begin(), cname.end(), bytes + 10);
  return BuildResult::written(length);
}

BuildResult build_rtcp_bye(std::span<std::uint8_t> out, std::span<const std::uint32_t> sources,
                           std::string_view reason) {
  if (sources.size() > kMaximumReportBlocks) return BuildResult::failed(BuildError::TooManyEntries);
  if (reason.size() > 255) return BuildResult::failed(BuildError::BadArgument);
  const std::size_t reason_length = reason.empty() ? 0 : (1 + reason.size() + 3) / 4 * 4;
  const std::size_t length = kRtcpHeaderLength + sources.size() * 4 + reason_length;
  if (out.size() < length) return BuildResult::failed(BuildError::BufferTooSmall);
  std::uint8_t* bytes = out.data();
  write_header(bytes, sources.size(), rtcp_type::kBye, length);
  std::size_t offset = kRtcpHeaderLength;
  for (const std::uint32_t source : sources) {
    store_be32(bytes + offset, source);
    offset += 4;
  }
  if (!reason.empty()) {
    std::fill(bytes + offset, bytes + length, std::uint8_t{0});
    bytes[offset] = static_cast<std::uint8_t>(reason.size());
    std::copy(reason.begin(), reason.end(), bytes + offset + 1);
  }
  return BuildResult::written(length);
}

}  // namespace mrfp::packet
