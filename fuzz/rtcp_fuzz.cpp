// Fuzzes the RTCP compound walker and the SR / RR / BYE readers; every accepted
// SR or RR is rebuilt and must parse back the same.
#include <array>

#include "dataplane/packet/rtcp.h"
#include "fuzz/fuzz_target.h"

namespace mrfp::fuzz {
namespace {

void check_report_blocks(const packet::ReportBlocks& blocks) {
  std::array<packet::ReportBlock, packet::kMaximumReportBlocks> copy{};
  if (blocks.size() > copy.size()) invariant_broken();
  for (std::size_t i = 0; i < blocks.size(); ++i) copy[i] = blocks[i];
  std::array<std::uint8_t, 8 + packet::kMaximumReportBlocks * packet::kReportBlockLength> out{};
  const auto built = packet::build_rtcp_receiver_report(
      out, 1, std::span<const packet::ReportBlock>(copy).first(blocks.size()));
  if (!built) invariant_broken();
  packet::RtcpCompoundReader reader(std::span<const std::uint8_t>(out).first(built.length));
  packet::RtcpPacket packet;
  if (!reader.next(packet)) invariant_broken();
  const auto again = packet::parse_receiver_report(packet);
  if (!again || again->report_blocks.size() != blocks.size()) invariant_broken();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const packet::ReportBlock a = again->report_blocks[i];
    const packet::ReportBlock& b = copy[i];
    if (a.ssrc != b.ssrc || a.cumulative_lost != b.cumulative_lost || a.jitter != b.jitter ||
        a.highest_sequence != b.highest_sequence || a.fraction_lost != b.fraction_lost) {
      invariant_broken();
    }
  }
}

// An independent reading of RFC 3550 §6.4.1 framing: true when the whole buffer
// is a sequence of well-framed packets, padding only on the last.
bool reference_compound_is_valid(const std::uint8_t* data, std::size_t size) {
  std::size_t offset = 0;
  while (offset < size) {
    if (size - offset < 4 || (data[offset] >> 6) != 2) return false;
    const std::size_t length = 4 * (1 + static_cast<std::size_t>((data[offset + 2] << 8) | data[offset + 3]));
    if (length > size - offset) return false;
    if ((data[offset] & 0x20) != 0) {
      const std::size_t padding = data[offset + length - 1];
      if (offset + length != size || padding == 0 || padding > length - 4) return false;
    }
    offset += length;
  }
  return true;
}

}  // namespace
}  // namespace mrfp::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mrfp;
  const std::span<const std::uint8_t> bytes(data, size);
  (void)packet::is_rtcp_on_multiplexed_port(bytes);
  (void)packet::validate_rtcp_compound(bytes);
  packet::RtcpCompoundReader reader(bytes);
  std::size_t walked = 0;
  for (packet::RtcpPacket packet; reader.next(packet);) {
    fuzz::touch(packet.bytes);
    fuzz::touch(packet.body);
    walked += packet.bytes.size();
    if (const auto sr = packet::parse_sender_report(packet)) {
      fuzz::touch(sr->report_blocks.bytes);
      fuzz::check_report_blocks(sr->report_blocks);
    }
    if (const auto rr = packet::parse_receiver_report(packet)) {
      fuzz::touch(rr->report_blocks.bytes);
      fuzz::check_report_blocks(rr->report_blocks);
    }
    if (const auto bye = packet::parse_bye(packet)) {
      for (std::size_t i = 0; i < bye->source_count(); ++i) (void)bye->source(i);
      fuzz::touch({reinterpret_cast<const std::uint8_t*>(bye->reason.data()), bye->reason.size()});
    }
  }
  if (walked > size) fuzz::invariant_broken();
  if ((reader.error() == packet::ParseError::None) != fuzz::reference_compound_is_valid(data, size)) {
    fuzz::invariant_broken();
  }
  if (reader.error() == packet::ParseError::None && walked != size) fuzz::invariant_broken();
  return 0;
}
