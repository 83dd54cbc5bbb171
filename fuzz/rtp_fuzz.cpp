// Fuzzes the RTP header parser, RFC 8285 element walking and the RFC 6464/6465
// level readers; every accepted header is rebuilt and must parse back the same.
#include <array>

#include "dataplane/packet/rtcp.h"
#include "dataplane/packet/rtp.h"
#include "dataplane/packet/rtp_extension.h"
#include "fuzz/fuzz_target.h"

namespace mrfp::fuzz {
namespace {

void rebuild_and_compare(const packet::RtpPacket& rtp) {
  std::array<std::uint32_t, packet::kMaximumCsrcCount> csrcs{};
  std::array<std::uint8_t, packet::kMaximumCsrcCount> levels{};
  for (std::size_t i = 0; i < rtp.csrc_count; ++i) {
    csrcs[i] = rtp.csrc(i);
    levels[i] = static_cast<std::uint8_t>(csrcs[i] & 0x7F);
  }
  packet::RtpHeaderFields fields;
  fields.marker = rtp.marker;
  fields.payload_type = rtp.payload_type;
  fields.sequence = rtp.sequence;
  fields.timestamp = rtp.timestamp;
  fields.ssrc = rtp.ssrc;
  fields.csrcs = std::span<const std::uint32_t>(csrcs).first(rtp.csrc_count);
  fields.mixer_levels_extension_id = static_cast<std::uint8_t>(1 + rtp.sequence % 14);
  fields.csrc_levels = std::span<const std::uint8_t>(levels).first(rtp.csrc_count);
  std::array<std::uint8_t, 128> out{};
  const packet::BuildResult built = packet::build_rtp_header(out, fields);
  if (!built) invariant_broken();
  const auto again = packet::parse_rtp(std::span<const std::uint8_t>(out).first(built.length));
  if (!again || again->ssrc != rtp.ssrc || again->sequence != rtp.sequence ||
      again->timestamp != rtp.timestamp || again->marker != rtp.marker ||
      again->payload_type != rtp.payload_type || again->csrc_count != rtp.csrc_count) {
    invariant_broken();
  }
  std::array<std::uint8_t, packet::kMaximumCsrcCount> parsed_levels{};
  if (rtp.csrc_count > 0) {
    const auto count = packet::mixer_audio_levels(again.value(), fields.mixer_levels_extension_id, parsed_levels);
    if (!count || count.value() != rtp.csrc_count) invariant_broken();
    for (std::size_t i = 0; i < rtp.csrc_count; ++i) {
      if (again->csrc(i) != csrcs[i] || parsed_levels[i] != levels[i]) invariant_broken();
    }
  }
}

// An independent reading of RFC 3550 §5.1 / §5.3.1: the header length the bytes
// claim, or 0 when they cannot be an RTP header at all.
std::size_t reference_header_length(const std::uint8_t* data, std::size_t size) {
  if (size < 12 || (data[0] >> 6) != 2) return 0;
  std::size_t length = 12 + 4 * static_cast<std::size_t>(data[0] & 0x0F);
  if ((data[0] & 0x10) != 0) {
    if (size < length + 4) return 0;
    length += 4 + 4 * static_cast<std::size_t>((data[length + 2] << 8) | data[length + 3]);
  }
  return length <= size ? length : 0;
}

}  // namespace
}  // namespace mrfp::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mrfp;
  const std::span<const std::uint8_t> bytes(data, size);
  (void)packet::is_rtcp_on_multiplexed_port(bytes);
  const auto header = packet::parse_rtp_header(bytes);
  const auto rtp = packet::parse_rtp(bytes);
  const std::size_t expected_length = fuzz::reference_header_length(data, size);
  if (header.ok() != (expected_length != 0)) fuzz::invariant_broken();
  if (!header) return 0;
  if (header->header_length != expected_length) fuzz::invariant_broken();
  fuzz::touch(header->payload);
  fuzz::touch(header->csrc_bytes);
  fuzz::touch(header->extension_data);
  if (header->header_length + header->payload.size() != size) fuzz::invariant_broken();
  if (!rtp) return 0;
  fuzz::touch(rtp->payload);
  if (rtp->header_length + rtp->payload.size() + rtp->padding_length != size) fuzz::invariant_broken();

  packet::ExtensionElementReader reader(rtp->extension_profile, rtp->extension_data);
  for (packet::ExtensionElement element; reader.next(element);) fuzz::touch(element.data);
  for (std::uint8_t id = 0; id < 16; ++id) {
    (void)packet::client_audio_level(rtp.value(), id);
    std::array<std::uint8_t, 4> levels{};
    (void)packet::mixer_audio_levels(rtp.value(), id, levels);
  }
  fuzz::rebuild_and_compare(rtp.value());
  return 0;
}
