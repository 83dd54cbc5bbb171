// The receive path: every packet checked (source, SSRC, direction) and staged,
// then one SRTP burst per conference and the survivors into the mixer.
#include "dataplane/conference_internal.h"

#include <cstddef>

#include "dataplane/packet/rtcp.h"
#include "dataplane/packet/rtp.h"
#include "dataplane/packet/rtp_extension.h"
#include "dataplane/prefetch.h"

namespace mrfp::dataplane {

void Conference::report(Participant& p, Event::Kind kind, std::int64_t now_us, const char* what) {
  if (now_us - p.last_event_us < kEventRateLimitUs) return;
  p.last_event_us = now_us;
  publish(events_, events_dropped_, kind, id_, p.id, "participant %u: %s", p.id, what);
}

void Conference::prefetch(std::uint32_t participant_index) const {
  if (participant_index >= participants_.size()) return;
  const auto* participant = participants_[participant_index].get();
  if (participant == nullptr) return;
  // The packet path's fields: Participant's first lines, through its rx counts.
  constexpr std::size_t kHotBytes = offsetof(Participant, counters) + 2 * sizeof(std::uint64_t);
  static_assert(kHotBytes <= 4 * 64, "the packet path's fields outgrew four lines: reorder Participant");
  prefetch_bytes(participant, kHotBytes);
}

void Conference::stage(std::uint32_t participant_index, ReceivedDatagram& packet) {
  auto& p = *participants_[participant_index];
  ++p.counters.rx_packets;
  p.last_packet_us = packet.arrival_us;
  p.timed_out = false;
  p.counters.rx_bytes += packet.length;
  const std::span<const std::uint8_t> bytes(packet.data, packet.length);
  const bool rtcp = packet::is_rtcp_on_multiplexed_port(bytes);

  if (p.remote && !same_endpoint(*p.remote, packet.source)) {
    ++p.counters.drop_source_mismatch;
    report(p, Event::Kind::SsrcCollision, packet.arrival_us, "packet from an unexpected source address dropped");
    return;
  }
  if (rtcp) {
    // RFC 3550 §6.4: the sender SSRC follows the 4-byte header.
    if (packet.length < 8) {
      ++p.counters.drop_malformed;
      return;
    }
    if (!p.ssrc) {  // SRTCP before any RTP authenticated: no context to check it with yet
      ++p.counters.drop_ssrc_mismatch;
      return;
    }
    const std::uint32_t ssrc = std::uint32_t{packet.data[4]} << 24 | std::uint32_t{packet.data[5]} << 16 |
                               std::uint32_t{packet.data[6]} << 8 | packet.data[7];
    if (ssrc != *p.ssrc) {
      ++p.counters.drop_ssrc_mismatch;
      return;
    }
    staged_.push_back({participant_index, &packet, true, false});
    return;
  }
  const auto header = packet::parse_rtp_header(bytes);
  if (!header) {
    ++p.counters.drop_malformed;
    return;
  }
  if (!p.sending()) {
    ++p.counters.drop_not_sending;
    return;
  }
  const std::uint32_t ssrc = header->ssrc;
  if (p.ssrc) {
    if (ssrc != *p.ssrc) {
      ++p.counters.drop_ssrc_mismatch;
      report(p, Event::Kind::SsrcCollision, packet.arrival_us, "packet with a foreign SSRC dropped");
      return;
    }
    staged_.push_back({participant_index, &packet, false, false});
    return;
  }
  // Latching (no declared SSRC): the first authenticated SSRC becomes the
  // participant's, but only if nobody else in the conference holds it.
  if (p.latching) {
    if (*p.latching != ssrc) {
      ++p.counters.drop_ssrc_mismatch;
      return;
    }
  } else {
    if (auto holder = ssrcs_.owner_of(ssrc)) {
      ++p.counters.drop_ssrc_mismatch;
      report(p, Event::Kind::SsrcCollision, packet.arrival_us,
             holder->kind == SsrcOwner::Kind::OutputStream ? "SSRC of a mixer output stream refused"
                                                           : "SSRC held by another participant refused");
      return;
    }
    if (install_inbound_stream(p, ssrc) != srtp::SetupStatus::Ok) {
      ++p.counters.drop_malformed;
      return;
    }
    p.latching = ssrc;
  }
  staged_.push_back({participant_index, &packet, false, true});
}

void Conference::flush() {
  if (staged_.empty()) return;
  // Two bursts through the engine: SRTP, then SRTCP.
  views_.clear();
  for (const auto& s : staged_) {
    if (!s.rtcp) views_.push_back({s.packet->data, s.packet->length, s.packet->capacity});
  }
  const std::size_t rtp_count = views_.size();
  for (const auto& s : staged_) {
    if (s.rtcp) views_.push_back({s.packet->data, s.packet->length, s.packet->capacity});
  }
  // The mixer state the pushes below touch is loaded while SRTP runs.
  for (const auto& s : staged_) mixer_->prefetch_entry(participants_[s.participant_index]->handle);
  srtp_->unprotect(std::span(views_).first(rtp_count));
  srtp_->unprotect_rtcp(std::span(views_).subspan(rtp_count));
  for (const auto& s : staged_) mixer_->prefetch_jitter_buffer(participants_[s.participant_index]->handle);

  std::size_t rtp_index = 0, rtcp_index = rtp_count;
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    constexpr std::size_t kSlotPrefetchDistance = 4;
    if (i + kSlotPrefetchDistance < staged_.size()) prefetch_jitter_slot(staged_[i + kSlotPrefetchDistance]);
    const auto& s = staged_[i];
    auto& view = views_[s.rtcp ? rtcp_index++ : rtp_index++];
    auto* participant = participants_[s.participant_index].get();
    if (!participant) continue;  // removed by a latch failure earlier in this loop: cannot happen, kept safe
    auto& p = *participant;
    switch (view.status) {
      case srtp::PacketStatus::Ok:
        break;
      case srtp::PacketStatus::AuthFailed:
        ++p.counters.drop_auth_failed;
        report(p, Event::Kind::AuthFailureBurst, s.packet->arrival_us, "SRTP authentication failed");
        continue;
      case srtp::PacketStatus::Replayed: ++p.counters.drop_replayed; continue;
      case srtp::PacketStatus::TooOld: ++p.counters.drop_too_old; continue;
      case srtp::PacketStatus::UnknownMki: ++p.counters.drop_unknown_mki; continue;
      case srtp::PacketStatus::KeyExpired: ++p.counters.drop_key_expired; continue;
      default: ++p.counters.drop_malformed; continue;
    }
    s.packet->length = view.length;
    if (s.latching && !p.ssrc) {
      p.ssrc = p.latching;
      ssrcs_.claim(*p.ssrc, {SsrcOwner::Kind::Participant, p.id});
    }
    if (!p.remote) p.remote = s.packet->source;  // learned from the first authenticated packet
    if (s.rtcp) {
      deliver_rtcp(p, *s.packet);
    } else {
      deliver(p, *s.packet);
    }
  }
  // A tentative SSRC none of whose packets authenticated is forgotten.
  for (const auto& s : staged_) {
    auto* p = participants_[s.participant_index].get();
    if (p && p->latching && !p->ssrc) srtp_->remove_stream(*p->latching);
    if (p) p->latching.reset();
  }
  staged_.clear();
}

void Conference::prefetch_jitter_slot(const Staged& staged) const {
  const ReceivedDatagram& packet = *staged.packet;
  // RFC 3550 §5.1: the sequence number is bytes 2-3, which SRTP leaves in clear.
  if (staged.rtcp || packet.length < 12) return;
  const Participant* p = participants_[staged.participant_index].get();
  if (p) mixer_->prefetch_jitter_slot(p->handle, packet::load_be16(packet.data + 2));
}

void Conference::deliver(Participant& p, ReceivedDatagram& packet) {
  const auto rtp = packet::parse_rtp({packet.data, packet.length});
  if (!rtp || rtp->payload_type != p.payload_type) {
    ++p.counters.drop_malformed;
    return;
  }
  mixer::RtpPacketInfo info;
  info.sequence = rtp->sequence;
  info.timestamp = rtp->timestamp;
  info.payload = rtp->payload;
  info.arrival_time_us = packet.arrival_us;
  if (p.level_ext_id) {
    if (const auto level = packet::client_audio_level(*rtp, p.level_ext_id)) {
      info.audio_level = mixer::AudioLevel{level->level_dbov, level->voice_activity};
    }
  }
  mixer::PushResult result{};
  mixer_->push(p.handle, info, &result);
  switch (result) {
    case mixer::PushResult::Late: ++p.counters.jitter_late; break;
    case mixer::PushResult::TooLarge: ++p.counters.drop_malformed; break;
    default: break;
  }
}

void Conference::deliver_rtcp(Participant& p, ReceivedDatagram& packet) {
  ++p.counters.rtcp_rx;
  packet::RtcpCompoundReader reader({packet.data, packet.length});
  for (packet::RtcpPacket rtcp; reader.next(rtcp);) {
    packet::ReportBlocks blocks;
    if (rtcp.packet_type == packet::rtcp_type::kSenderReport) {
      if (auto sr = packet::parse_sender_report(rtcp)) blocks = sr->report_blocks;
    } else if (rtcp.packet_type == packet::rtcp_type::kReceiverReport) {
      if (auto rr = packet::parse_receiver_report(rtcp)) blocks = rr->report_blocks;
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const auto block = blocks[i];
      if (block.ssrc != p.common->ssrc && block.ssrc != p.mix_minus->ssrc) continue;
      p.fraction_lost = block.fraction_lost / 256.0;
      p.jitter_ms = block.jitter * 1000.0 / mixer::rtp_clock_rate(p.codec);
      if (block.last_sender_report != 0) {
        // RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s.
        const auto now_middle = static_cast<std::uint32_t>(ntp_now() >> 16);
        const auto rtt = static_cast<std::uint32_t>(now_middle - block.last_sender_report -
                                                    block.delay_since_last_sender_report);
        p.round_trip_ms = rtt * 1000.0 / 65536.0;
      }
    }
  }
  if (reader.error() != packet::ParseError::None) ++p.counters.drop_malformed;
}

}  // namespace mrfp::dataplane
