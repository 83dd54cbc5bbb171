// The send path: the tick on its fixed grid, packetising each output frame,
// protecting it once, replicating it, and the RTCP and events around that.
#include "dataplane/conference_internal.h"

#include <algorithm>

#include "dataplane/packet/rtcp.h"
#include "dataplane/packet/rtp.h"
#include "dataplane/srtp/crypto_engine.h"

namespace mrfp::dataplane {

std::int64_t Conference::tick_if_due(std::int64_t now_us, Transmitter& transmitter) {
  int ticks = 0;
  while (now_us >= next_tick_us_) {
    if (++ticks > kMaxCatchUpTicks) {
      next_tick_us_ = now_us + frame_us_;
      ++counters_.tick_overruns;
      break;
    }
    tick_once(now_us, transmitter);
    next_tick_us_ += frame_us_;  // a fixed grid: the RTP clock never drifts
  }
  if (ticks > 1) {
    counters_.tick_overruns += static_cast<std::uint64_t>(ticks - 1);
    if (now_us - last_overload_event_us_ >= kEventRateLimitUs) {
      last_overload_event_us_ = now_us;
      publish(events_, events_dropped_, Event::Kind::Overload, id_, 0,
              "%d ticks were due at once: the worker fell %lld ms behind", ticks,
              static_cast<long long>((ticks - 1) * frame_us_ / 1000));
    }
  }
  return next_tick_us_;
}

void Conference::tick_once(std::int64_t now_us, Transmitter& transmitter) {
  ++counters_.ticks;
  const auto frames = mixer_->tick(now_us);
  report_speaker_change();
  if (counters_.ticks % kInactivityCheckTicks == 0) report_inactivity(now_us);
  tx_views_.clear();
  tx_frames_.clear();
  tx_streams_.clear();
  for (const auto& frame : frames) {
    OutputStream* stream = nullptr;
    if (frame.stream.kind == mixer::OutputStreamId::Kind::MixMinus) {
      stream = mix_minus_streams_[frame.stream.index];
    } else if (auto common = common_stream(frame.codec, frame.payload_type)) {
      stream = common.value();
    }
    if (!stream) continue;
    std::uint8_t* buffer = tx_buffers_.data() + tx_views_.size() * kTxSlotBytes;
    const auto length = packetize(frame, *stream, {buffer, kTxSlotBytes});
    if (length == 0) continue;
    tx_views_.push_back({buffer, static_cast<std::uint32_t>(length), static_cast<std::uint32_t>(kTxSlotBytes)});
    tx_frames_.push_back(&frame);
    tx_streams_.push_back(stream);
  }
  // Encrypt once per output stream, under the group key ...
  srtp_->protect(tx_views_);
  // ... and replicate the same bytes to every listener of the stream.
  for (std::size_t i = 0; i < tx_views_.size(); ++i) {
    if (tx_views_[i].status != srtp::PacketStatus::Ok) {
      ++counters_.drop_key_expired;
      continue;
    }
    auto& stream = *tx_streams_[i];
    destinations_.clear();
    for (const auto listener : tx_frames_[i]->listeners) {
      const auto index = index_by_mixer_slot_[listener.slot];
      if (index == UINT32_MAX) continue;
      const auto& p = *participants_[index];
      if (p.remote) destinations_.push_back({p.local_port_index, *p.remote});
    }
    if (destinations_.empty()) continue;
    const auto sent = transmitter.send_to_many({tx_views_[i].data, tx_views_[i].length}, destinations_);
    counters_.tx_packets += sent;
    counters_.tx_bytes += sent * tx_views_[i].length;
    counters_.tx_dropped += destinations_.size() - sent;
    ++stream.packets;
    stream.octets += static_cast<std::uint32_t>(tx_frames_[i]->payload.size());
    if (stream.report_cursor > 0 || now_us >= stream.next_report_us) {
      // A round of reports: this tick's share of the listeners (the list may
      // change between ticks as speakers change; RTCP is periodic, a listener
      // missed now is reached next round).
      if (stream.report_cursor == 0) stream.next_report_us = now_us + kSenderReportIntervalUs;
      const std::size_t first = std::min(stream.report_cursor, destinations_.size());
      const std::size_t count = std::min(kSenderReportsPerTick, destinations_.size() - first);
      if (count > 0) {  // none when the list shrank under the cursor: the round ends
        send_sender_report(stream, rtp_timestamp_of(*tx_frames_[i]), std::span(destinations_).subspan(first, count),
                           transmitter);
      }
      stream.report_cursor = first + count < destinations_.size() ? first + count : 0;
    }
  }
}

// Why an output SSRC is retired after 2^15 packets: an ordinary receiver learns
// a stream's ROC only from what it has seen (RFC 3711 §3.3.1). One that first
// hears the stream after its sequence wrapped would assume ROC 0 and fail every
// packet; one that comes back after more than 2^15 packets estimates the wrong
// ROC. Listeners move between streams all the time here (speaker changes,
// late joins), so no stream may ever need a ROC: each SSRC starts below 2^15
// and is replaced by a fresh one, from the same registry, before its sequence
// could wrap. Timestamps continue; the first packet under the new SSRC carries
// the marker, as on any stream switch.
bool Conference::move_to_fresh_ssrc(OutputStream& stream) {
  const std::uint32_t old_ssrc = stream.ssrc;
  const auto owner = ssrcs_.owner_of(old_ssrc);
  const std::uint32_t fresh = ssrcs_.claim_fresh(owner.value_or(SsrcOwner{SsrcOwner::Kind::OutputStream, 0}));
  if (fresh == 0) return false;  // the registry is full (it is sized so it cannot be): keep the old SSRC
  if (srtp_->add_stream(fresh, group_keys_, 0) != srtp::SetupStatus::Ok) {
    ssrcs_.release(fresh);
    return false;  // keep the old SSRC
  }
  srtp_->remove_stream(old_ssrc);
  ssrcs_.release(old_ssrc);
  stream.ssrc = fresh;
  // The new SSRC's first sequence number; packetize() ties it to the frame index.
  stream.next_sequence = static_cast<std::uint16_t>((fresh * 2654435761u >> 16) & 0x7FFF);
  stream.restart_sequence = true;
  stream.packets_under_ssrc = 0;
  stream.packets = stream.octets = 0;
  stream.next_report_us = 0;  // a round of SRs for the new SSRC right away
  stream.report_cursor = 0;
  stream.mark_next = true;
  ++counters_.ssrc_rotations;
  return true;
}

void Conference::report_speaker_change() {
  const auto speakers = mixer_->speaker_slots();
  if (std::equal(speakers.begin(), speakers.end(), last_speakers_.begin(), last_speakers_.end())) return;
  last_speakers_.assign(speakers.begin(), speakers.end());  // capacity reserved at creation
  char detail[96] = "speakers:";
  std::size_t used = std::strlen(detail);
  for (const auto slot : speakers) {
    const auto index = index_by_mixer_slot_[slot];
    if (index == UINT32_MAX || used + 12 >= sizeof detail) continue;
    used += static_cast<std::size_t>(std::snprintf(detail + used, sizeof detail - used, " %u", participants_[index]->id));
  }
  publish(events_, events_dropped_, Event::Kind::SpeakerChange, id_, 0, "%s", detail);
}

void Conference::report_inactivity(std::int64_t now_us) {
  for (auto& participant : participants_) {
    if (!participant || participant->timed_out || !participant->sending()) continue;
    auto& p = *participant;
    if (p.last_packet_us == 0) p.last_packet_us = now_us;  // the clock starts when it could first send
    if (now_us - p.last_packet_us < kInactivityTimeoutUs) continue;
    p.timed_out = true;
    publish(events_, events_dropped_, Event::Kind::TimedOut, id_, p.id,
            "participant %u: nothing received for %lld s", p.id,
            static_cast<long long>((now_us - p.last_packet_us) / 1'000'000));
  }
}

std::uint32_t Conference::rtp_timestamp_of(const mixer::OutputFrame& frame) const {
  return rtp_timestamp_base_ + frame.rtp_timestamp;
}

std::size_t Conference::packetize(const mixer::OutputFrame& frame, OutputStream& stream, std::span<std::uint8_t> out) {
  std::uint32_t csrcs[mixer::ConferenceMixer::kMaxContributors];
  std::uint8_t levels[mixer::ConferenceMixer::kMaxContributors];
  std::size_t count = 0;
  for (const auto& contributor : frame.contributors) {
    const auto index = index_by_mixer_slot_[contributor.participant.slot];
    if (index == UINT32_MAX || !participants_[index]->ssrc || count == std::size(csrcs)) continue;
    csrcs[count] = *participants_[index]->ssrc;
    levels[count] = contributor.level_dbov;
    ++count;
  }
  packet::RtpHeaderFields fields;
  fields.payload_type = frame.payload_type;
  // RFC 3550 §5.1: sequence numbers of a stream never jump; one per frame.
  if (stream.packets_under_ssrc >= max_packets_per_ssrc_) move_to_fresh_ssrc(stream);
  if (stream.restart_sequence) {
    stream.sequence_offset = static_cast<std::uint16_t>(stream.next_sequence - frame.frame_index);
    stream.restart_sequence = false;
  }
  fields.marker = frame.marker || stream.mark_next;
  stream.mark_next = false;
  ++stream.packets_under_ssrc;
  fields.sequence = static_cast<std::uint16_t>(stream.sequence_offset + frame.frame_index);
  stream.next_sequence = static_cast<std::uint16_t>(fields.sequence + 1);
  fields.timestamp = rtp_timestamp_of(frame);
  fields.ssrc = stream.ssrc;
  fields.csrcs = {csrcs, count};
  fields.mixer_levels_extension_id = spec_.mixer_levels_ext_id;
  fields.csrc_levels = {levels, count};
  const auto header = packet::build_rtp_header(out, fields);
  // Room is kept for the SRTP trailer (MKI + tag) after the payload.
  constexpr std::size_t kTrailerRoom = srtp::kMaxMkiLen + srtp::kMaxTagLen;
  if (!header || header.length + frame.payload.size() + kTrailerRoom > out.size()) return 0;
  std::memcpy(out.data() + header.length, frame.payload.data(), frame.payload.size());
  return header.length + frame.payload.size();
}

void Conference::send_rtcp(std::span<std::uint8_t> compound, std::size_t length,
                           std::span<const Destination> destinations, Transmitter& transmitter) {
  srtp::PacketView view{compound.data(), static_cast<std::uint32_t>(length),
                        static_cast<std::uint32_t>(compound.size())};
  srtp_->protect_rtcp({&view, 1});
  if (view.status != srtp::PacketStatus::Ok) return;
  const auto sent = transmitter.send_to_many({view.data, view.length}, destinations);
  counters_.rtcp_tx += sent;
  counters_.tx_dropped += destinations.size() - sent;
}

void Conference::send_sender_report(OutputStream& stream, std::uint32_t rtp_timestamp,
                                    std::span<const Destination> destinations, Transmitter& transmitter) {
  std::uint8_t buffer[256];
  packet::SenderInfo info{ntp_now(), rtp_timestamp, stream.packets, stream.octets};
  const auto sr = packet::build_rtcp_sender_report(buffer, stream.ssrc, info, {});
  if (!sr) return;
  const auto sdes = packet::build_rtcp_sdes_cname(std::span(buffer).subspan(sr.length), stream.ssrc, "mrfp");
  if (!sdes) return;
  send_rtcp(buffer, sr.length + sdes.length, destinations, transmitter);
}

void Conference::send_bye(std::span<const std::uint32_t> sources, std::span<const Destination> destinations,
                          Transmitter& transmitter) {
  if (destinations.empty() || sources.empty()) return;
  std::uint8_t buffer[256];
  // RFC 3550 §6.1: a compound starts with a report; an empty RR, then BYE.
  const auto rr = packet::build_rtcp_receiver_report(buffer, sources.front(), {});
  if (!rr) return;
  const auto bye = packet::build_rtcp_bye(std::span(buffer).subspan(rr.length), sources);
  if (!bye) return;
  send_rtcp(buffer, rr.length + bye.length, destinations, transmitter);
}

void Conference::say_goodbye(Transmitter& transmitter) {
  for (const auto& p : participants_) {
    if (!p || !p->remote) continue;
    const std::uint32_t sources[] = {p->common->ssrc, p->mix_minus->ssrc};
    const Destination destination{p->local_port_index, *p->remote};
    send_bye(sources, {&destination, 1}, transmitter);
  }
}

}  // namespace mrfp::dataplane
