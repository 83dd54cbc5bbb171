// A conference's life cycle: creation, participants joining, changing and
// leaving, and what Audit and GetStats report.
#include "dataplane/conference_internal.h"

#include <algorithm>

namespace mrfp::dataplane {

Conference::Conference(ConferenceId id, const ConferenceSpec& spec, std::uint32_t max_participants,
                       std::chrono::milliseconds rekey_grace,
                       std::unique_ptr<srtp::SrtpProcessor> srtp, WorkerEventRing& events,
                       std::atomic<std::uint64_t>& events_dropped, std::uint64_t seed)
    : id_(id),
      spec_(spec),
      srtp_(std::move(srtp)),
      // Each participant's own SSRC and its mix-minus stream's, the common streams,
      // and one more while an output SSRC is being replaced.
      ssrcs_(seed, 2 * std::size_t{max_participants} + 64),
      events_(events),
      events_dropped_(events_dropped),
      rekey_grace_us_(std::chrono::duration_cast<std::chrono::microseconds>(rekey_grace).count()),
      frame_us_(static_cast<std::int64_t>(spec.frame_ms) * 1000),
      rtp_timestamp_base_(static_cast<std::uint32_t>(seed >> 13)) {}

Conference::~Conference() = default;

Result<std::unique_ptr<Conference>> Conference::create(ConferenceId id, const ConferenceSpec& spec,
                                                       std::uint32_t max_participants,
                                                       std::chrono::milliseconds rekey_grace,
                                                       std::uint32_t max_packets_per_ssrc,
                                                       std::unique_ptr<srtp::SrtpProcessor> srtp,
                                                       WorkerEventRing& events,
                                                       std::atomic<std::uint64_t>& events_dropped,
                                                       std::uint64_t seed) {
  mixer::ConferenceConfig config;
  config.max_participants = max_participants;
  config.codecs = {};
  for (auto codec : spec.codecs) config.codecs.add(codec);
  config.mix_rate_hz = spec.mix_rate_hz;
  config.frame_ms = spec.frame_ms;
  config.max_speakers = spec.speakers;
  config.policy = spec.policy;
  config.opus.bitrate_bps = static_cast<std::int32_t>(spec.opus_bitrate);
  config.opus.complexity = static_cast<int>(spec.opus_complexity);
  mixer::MixerStatus mixer_status{};
  auto mixer = mixer::ConferenceMixer::create(config, &mixer_status);
  if (!mixer) {
    return Error{ErrorCode::InvalidArgument,
                 "conference settings refused by the mixer: " + std::string(mixer::describe(mixer_status))};
  }
  std::unique_ptr<Conference> conference(
      new Conference(id, spec, max_participants, rekey_grace, std::move(srtp), events, events_dropped, seed));
  conference->mixer_ = std::move(mixer);
  conference->max_packets_per_ssrc_ = std::clamp<std::uint32_t>(max_packets_per_ssrc, 1, 1u << 15);
  conference->spec_.group_key.wipe();  // installed below; never kept in the clear elsewhere

  const auto key = conference->srtp_->add_master_key(spec.group_key);
  if (key.status != srtp::SetupStatus::Ok) return setup_error(key.status, "group_key");
  conference->group_keys_.push_back(key.handle);

  auto& c = *conference;
  c.index_by_mixer_slot_.assign(max_participants, UINT32_MAX);
  c.mix_minus_streams_.resize(max_participants);
  const std::size_t max_outputs = max_participants + mixer::ConferenceMixer::kMaxStreamGroups;
  c.staged_.reserve(256);
  c.views_.reserve(256);
  c.tx_buffers_.assign(max_outputs * kTxSlotBytes, 0);
  c.tx_views_.reserve(max_outputs);
  c.tx_frames_.reserve(max_outputs);
  c.tx_streams_.reserve(max_outputs);
  c.destinations_.reserve(max_participants);
  c.last_speakers_.reserve(max_participants);
  // The common stream of each static payload type exists from the start, so
  // CreateConference can name its SSRC; Opus (dynamic PT) gets one on first use.
  for (auto codec : spec.codecs) {
    if (codec == mixer::Codec::Pcmu || codec == mixer::Codec::Pcma) {
      auto stream = c.common_stream(codec, codec == mixer::Codec::Pcmu ? 0 : 8);
      if (!stream) return stream.error();
    }
  }
  return conference;
}

Result<Conference::OutputStream*> Conference::new_output_stream(std::string purpose, std::uint32_t owner_id) {
  auto stream = std::make_unique<OutputStream>();
  stream->ssrc = ssrcs_.claim_fresh({SsrcOwner::Kind::OutputStream, owner_id});
  if (stream->ssrc == 0) {
    return Error{ErrorCode::ResourceExhausted, "conference " + std::to_string(id_) + " has no SSRC left for " + purpose};
  }
  // RFC 3550 §5.1: a random start; below 2^15 so the sequence never wraps
  // while the SSRC lives and its ROC stays 0 (see move_to_fresh_ssrc()).
  stream->sequence_offset = static_cast<std::uint16_t>((stream->ssrc * 2654435761u >> 16) & 0x7FFF);
  stream->next_sequence = stream->sequence_offset;
  stream->purpose = std::move(purpose);
  const auto status = srtp_->add_stream(stream->ssrc, group_keys_, 0);
  if (status != srtp::SetupStatus::Ok) {
    ssrcs_.release(stream->ssrc);
    return setup_error(status, "output stream " + stream->purpose);
  }
  auto* raw = stream.get();
  output_streams_.push_back(std::move(stream));
  return raw;
}

// RFC 3550 §8.2: a source that finds its SSRC in use by another chooses a new
// one. The participant's SSRC comes from its signalling and cannot change;
// ours are random and listeners follow a change (it happens on every rotation
// anyway), so our output stream moves. Refusing instead would turn a participant
// away in about one 10,000-seat conference in 90 (n^2 / 2 pairs of random
// 32-bit SSRCs: every participant brings a mix-minus stream).
Status Conference::yield_output_ssrc(std::uint32_t ssrc, ParticipantId claimant) {
  const auto stream = std::find_if(output_streams_.begin(), output_streams_.end(),
                                   [ssrc](const auto& candidate) { return candidate->ssrc == ssrc; });
  if (stream == output_streams_.end() || !move_to_fresh_ssrc(**stream)) {
    return Error{ErrorCode::AlreadyExists, "ssrc " + std::to_string(ssrc) + " is used in conference " +
                                               std::to_string(id_) +
                                               " by one of the mixer's own output streams, which could not move"};
  }
  publish(events_, events_dropped_, Event::Kind::SsrcCollision, id_, claimant,
          "participant %u declared ssrc %u of output stream '%s': the stream moved to ssrc %u", claimant, ssrc,
          (*stream)->purpose.c_str(), (*stream)->ssrc);
  return ok_status();
}

Result<Conference::OutputStream*> Conference::common_stream(mixer::Codec codec, std::uint8_t payload_type) {
  const std::uint32_t key = static_cast<std::uint32_t>(codec) << 8 | payload_type;
  for (auto& [k, stream] : common_by_format_) {
    if (k == key) return stream;
  }
  auto stream = new_output_stream("common " + std::string(mixer::name(codec)) + "/" + std::to_string(payload_type) +
                                      "/" + std::to_string(spec_.frame_ms) + "ms",
                                  key);
  if (!stream) return stream;
  common_by_format_.emplace_back(key, stream.value());
  return stream;
}

ConferenceInfo Conference::info() const {
  ConferenceInfo info;
  info.id = id_;
  info.mix_rate_hz = mixer_->mix_rate_hz();
  for (const auto& stream : output_streams_) info.output_streams.push_back({stream->ssrc, stream->purpose});
  return info;
}

Conference::Participant* Conference::find(ParticipantId id) {
  auto it = index_of_.find(id);
  return it == index_of_.end() ? nullptr : participants_[it->second].get();
}

const Conference::Participant* Conference::find(ParticipantId id) const {
  auto it = index_of_.find(id);
  return it == index_of_.end() ? nullptr : participants_[it->second].get();
}

Result<ParticipantInfo> Conference::add_participant(ParticipantId id, const ParticipantSpec& spec,
                                                    std::uint32_t local_port_index, const Endpoint& local) {
  // TR 33.829 §5.3.2.1.1: one SSRC, one stream, in the whole conference.
  if (spec.declared_ssrc) {
    if (auto holder = ssrcs_.owner_of(*spec.declared_ssrc)) {
      if (holder->kind != SsrcOwner::Kind::OutputStream) {
        return Error{ErrorCode::AlreadyExists, "ssrc " + std::to_string(*spec.declared_ssrc) +
                                                   " is already used in conference " + std::to_string(id_) +
                                                   " by participant " + std::to_string(holder->id)};
      }
      if (auto yielded = yield_output_ssrc(*spec.declared_ssrc, id); !yielded.ok()) return yielded.error();
    }
  }
  auto participant = std::make_unique<Participant>();
  auto& p = *participant;
  p.id = id;
  p.codec = spec.codec;
  p.payload_type = spec.payload_type;
  p.direction = spec.direction;
  p.level_ext_id = spec.audio_level_ext_id;
  p.local_port_index = local_port_index;
  p.local = local;
  if (spec.remote) p.remote = spec.remote->address;

  auto added = mixer_->add_participant({spec.codec, spec.payload_type, spec.direction});
  if (added.status != mixer::MixerStatus::Ok) {
    const auto code = added.status == mixer::MixerStatus::ConferenceFull ? ErrorCode::ResourceExhausted
                                                                         : ErrorCode::InvalidArgument;
    return Error{code, "participant refused by the mixer: " + std::string(mixer::describe(added.status))};
  }
  p.handle = added.handle;
  auto undo_mixer = [&] { mixer_->remove_participant(p.handle); };

  if (spec.own_key) {
    const auto key = srtp_->add_master_key(*spec.own_key);
    if (key.status != srtp::SetupStatus::Ok) {
      undo_mixer();
      return setup_error(key.status, "own_key");
    }
    p.own_key = key.handle;
  }
  auto undo_key = [&] {
    if (p.own_key) srtp_->remove_master_key(*p.own_key);
  };
  if (spec.declared_ssrc) {
    const auto status = install_inbound_stream(p, *spec.declared_ssrc);
    if (status != srtp::SetupStatus::Ok) {
      undo_key();
      undo_mixer();
      return setup_error(status, "declared_ssrc");
    }
    ssrcs_.claim(*spec.declared_ssrc, {SsrcOwner::Kind::Participant, id});
    p.ssrc = spec.declared_ssrc;
  }
  auto common = common_stream(spec.codec, spec.payload_type);
  auto mix_minus = common ? new_output_stream("mix-minus of participant " + std::to_string(id), id)
                          : Result<OutputStream*>(common.error());
  if (!common || !mix_minus) {
    if (p.ssrc) {
      srtp_->remove_stream(*p.ssrc);
      ssrcs_.release(*p.ssrc);
    }
    undo_key();
    undo_mixer();
    return common ? mix_minus.error() : common.error();
  }
  p.common = common.value();
  p.mix_minus = mix_minus.value();
  mix_minus_streams_[p.handle.slot] = mix_minus.value();

  std::uint32_t index;
  if (!free_participant_indexes_.empty()) {
    index = free_participant_indexes_.back();
    free_participant_indexes_.pop_back();
    participants_[index] = std::move(participant);
  } else {
    index = static_cast<std::uint32_t>(participants_.size());
    participants_.push_back(std::move(participant));
  }
  index_of_[id] = index;
  index_by_mixer_slot_[p.handle.slot] = index;
  publish(events_, events_dropped_, Event::Kind::Joined, id_, id, "participant %u joined on local %s", id,
          local.to_string().c_str());
  return ParticipantInfo{id, local, p.common->ssrc};
}

srtp::SetupStatus Conference::install_inbound_stream(const Participant& p, std::uint32_t ssrc) {
  if (p.own_key) {
    const srtp::KeyHandle keys[] = {*p.own_key};
    return srtp_->add_stream(ssrc, keys, 0);
  }
  return srtp_->add_stream(ssrc, group_keys_, 0);
}

Result<std::uint32_t> Conference::remove_participant(ParticipantId id, Transmitter& transmitter) {
  auto* p = find(id);
  if (!p) {
    return Error{ErrorCode::NotFound,
                 "participant " + std::to_string(id) + " is not in conference " + std::to_string(id_)};
  }
  // RFC 3550 §6.6: the streams it was receiving end for it.
  if (p->remote) {
    const std::uint32_t sources[] = {p->common->ssrc, p->mix_minus->ssrc};
    const Destination destination{p->local_port_index, *p->remote};
    send_bye(sources, {&destination, 1}, transmitter);
  }
  const auto port_index = p->local_port_index;
  mixer_->remove_participant(p->handle);
  if (p->ssrc) {
    srtp_->remove_stream(*p->ssrc);
    ssrcs_.release(*p->ssrc);
  }
  if (auto* stream = mix_minus_streams_[p->handle.slot]) {
    srtp_->remove_stream(stream->ssrc);
    ssrcs_.release(stream->ssrc);
    std::erase_if(output_streams_, [stream](const auto& s) { return s.get() == stream; });
    mix_minus_streams_[p->handle.slot] = nullptr;
  }
  if (p->own_key) {
    std::erase_if(pending_key_removals_, [&](const PendingRemoval& r) { return r.participant == id; });
    srtp_->remove_master_key(*p->own_key);
  }
  index_by_mixer_slot_[p->handle.slot] = UINT32_MAX;
  const auto index = index_of_[id];
  index_of_.erase(id);
  participants_[index].reset();
  free_participant_indexes_.push_back(index);
  publish(events_, events_dropped_, Event::Kind::Left, id_, id, "participant %u left", id);
  return port_index;
}

Status Conference::modify_participant(const ParticipantChange& change) {
  auto* p = find(change.participant);
  if (!p) {
    return Error{ErrorCode::NotFound, "participant " + std::to_string(change.participant) +
                                          " is not in conference " + std::to_string(id_)};
  }
  if (change.mute) {
    p->mute = *change.mute;
    mixer_->set_muted(p->handle, p->mute);
  }
  if (change.deaf) {
    p->deaf = *change.deaf;
    mixer_->set_deaf(p->handle, p->deaf);
  }
  if (change.hold) {
    p->hold = *change.hold;
    mixer_->set_on_hold(p->handle, p->hold);
  }
  if (change.direction) {
    p->direction = *change.direction;
    mixer_->set_direction(p->handle, p->direction);
  }
  if (change.remote) p->remote = change.remote->address;
  return ok_status();
}

std::vector<std::uint32_t> Conference::local_port_indexes() const {
  std::vector<std::uint32_t> indexes;
  for (const auto& p : participants_) {
    if (p) indexes.push_back(p->local_port_index);
  }
  return indexes;
}

std::optional<std::uint32_t> Conference::participant_index(ParticipantId id) const {
  auto it = index_of_.find(id);
  if (it == index_of_.end()) return std::nullopt;
  return it->second;
}

ConferenceAudit Conference::audit() const {
  ConferenceAudit audit;
  audit.info = info();
  audit.suite = spec_.group_key.suite;
  audit.frame_ms = spec_.frame_ms;
  audit.speakers = spec_.speakers;
  audit.policy = spec_.policy;
  for (const auto& p : participants_) {
    if (!p) continue;
    ParticipantAudit a;
    a.id = p->id;
    a.codec = p->codec;
    a.payload_type = p->payload_type;
    a.direction = p->direction;
    a.mute = p->mute;
    a.deaf = p->deaf;
    a.hold = p->hold;
    a.speaking = mixer_->is_speaker(p->handle);
    a.ssrc = p->ssrc;
    if (p->remote) a.remote = Endpoint{*p->remote};
    a.local = p->local;
    a.own_key = p->own_key.has_value();
    audit.participants.push_back(a);
  }
  std::sort(audit.participants.begin(), audit.participants.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return audit;
}

ConferenceStats Conference::stats() const {
  ConferenceStats stats;
  stats.id = id_;
  stats.counters = counters_;
  for (const auto& p : participants_) {
    if (!p) continue;
    ParticipantStats ps;
    ps.id = p->id;
    ps.counters = p->counters;
    if (const mixer::JitterBuffer* jitter = mixer_->jitter_buffer(p->handle)) {
      ps.counters.jitter_lost = jitter->stats().lost;
      ps.counters.jitter_late += jitter->stats().late;
      ps.counters.concealed = jitter->stats().concealed;
      ps.jitter_buffer_ms = static_cast<double>(jitter->target_depth_frames()) * jitter->config().frame_ms;
    }
    ps.jitter_ms = p->jitter_ms;
    ps.round_trip_ms = p->round_trip_ms;
    ps.fraction_lost = p->fraction_lost;
    add_counters(stats.counters, ps.counters);
    stats.participants.push_back(ps);
  }
  std::sort(stats.participants.begin(), stats.participants.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return stats;
}

}  // namespace mrfp::dataplane
