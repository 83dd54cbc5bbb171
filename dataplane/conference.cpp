#include "dataplane/conference.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "dataplane/packet/rtcp.h"
#include "dataplane/srtp/crypto_engine.h"
#include "dataplane/packet/rtp.h"
#include "dataplane/packet/rtp_extension.h"

namespace mrfp::dataplane {

namespace {

constexpr std::size_t kTxSlotBytes = 1600;
// RFC 3550 §6.2: an SR at least every 5 s per stream (audio conferences send
// far below the 5% RTCP bandwidth share at that rate).
constexpr std::int64_t kSenderReportIntervalUs = 5'000'000;
constexpr std::int64_t kEventRateLimitUs = 1'000'000;
// A tick later than this many frames resynchronises the clock instead of
// catching up (e.g. after the process was stopped), and counts an overrun.
constexpr int kMaxCatchUpTicks = 50;
// RFC 3550 §6.3.5 times a member out after five report intervals without
// hearing from it; at the 5 s minimum interval that is 25 s. We report it (the
// MRFC decides whether to remove the participant), once per silence.
constexpr std::int64_t kInactivityTimeoutUs = 25'000'000;
constexpr std::uint64_t kInactivityCheckTicks = 50;

bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

Error setup_error(srtp::SetupStatus status, const std::string& what) {
  switch (status) {
    case srtp::SetupStatus::TableFull:
      return {ErrorCode::ResourceExhausted, what + ": SRTP context table is full"};
    case srtp::SetupStatus::AlreadyExists:
      return {ErrorCode::AlreadyExists, what + ": SRTP context exists"};
    case srtp::SetupStatus::InvalidKey:
      return {ErrorCode::InvalidArgument, what + ": key, salt or MKI length does not fit the suite"};
    case srtp::SetupStatus::EngineRefused:
      return {ErrorCode::FailedPrecondition, what + ": the SRTP engine cannot use this suite"};
    default:
      return {ErrorCode::Internal, what + ": SRTP setup failed (status " +
                                       std::to_string(static_cast<int>(status)) + ")"};
  }
}

std::uint64_t ntp_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  constexpr std::uint64_t kUnixToNtp = 2208988800ull;  // RFC 5905: 1900 to 1970
  const std::uint64_t seconds = static_cast<std::uint64_t>(now.tv_sec) + kUnixToNtp;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(now.tv_nsec) << 32) / 1'000'000'000ull;
  return seconds << 32 | fraction;
}

}  // namespace

struct Conference::Participant {
  ParticipantId id = 0;
  mixer::ParticipantHandle handle{};
  mixer::Codec codec{};
  std::uint8_t payload_type = 0;
  mixer::Direction direction{};
  std::uint8_t level_ext_id = 0;
  std::optional<std::uint32_t> ssrc;      // declared, or latched from the first authenticated packet
  std::optional<std::uint32_t> latching;  // SSRC tried in this burst, not yet authenticated
  std::optional<sockaddr_storage> remote;  // configured, or learned from the first authenticated packet
  std::uint32_t local_port_index = 0;
  Endpoint local;
  bool mute = false, deaf = false, hold = false;
  std::optional<srtp::KeyHandle> own_key;
  OutputStream* common = nullptr;     // the stream it hears while not speaking
  OutputStream* mix_minus = nullptr;  // the stream it hears while speaking
  Counters counters;
  double jitter_ms = 0, round_trip_ms = 0, fraction_lost = 0;
  std::int64_t last_event_us = -kEventRateLimitUs;
  std::int64_t last_packet_us = 0;  // 0: none yet since it joined (then join time counts)
  bool timed_out = false;

  bool sending() const { return mixer::sends_to_mixer(direction) && !hold; }
};

struct Conference::OutputStream {
  std::uint32_t ssrc = 0;
  // sequence = frame index + sequence_offset; see rotate_ssrc() for why an
  // SSRC carries fewer than 2^15 packets.
  std::uint16_t sequence_offset = 0;
  std::uint16_t next_sequence = 0;
  std::uint32_t packets_under_ssrc = 0;
  bool mark_next = false;  // the first packet under a new SSRC carries the marker
  std::uint32_t packets = 0, octets = 0;
  std::int64_t next_report_us = 0;
  std::string purpose;
};

Conference::Conference(ConferenceId id, const ConferenceSpec& spec, std::chrono::milliseconds rekey_grace,
                       std::unique_ptr<srtp::SrtpProcessor> srtp, WorkerEventRing& events,
                       std::atomic<std::uint64_t>& events_dropped, std::uint64_t seed)
    : id_(id),
      spec_(spec),
      srtp_(std::move(srtp)),
      ssrcs_(seed),
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
      new Conference(id, spec, rekey_grace, std::move(srtp), events, events_dropped, seed));
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
  // RFC 3550 §5.1: a random start; below 2^15 so the sequence never wraps
  // while the SSRC lives and its ROC stays 0 (see rotate_ssrc()).
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
      const bool output = holder->kind == SsrcOwner::Kind::OutputStream;
      return Error{ErrorCode::AlreadyExists,
                   "ssrc " + std::to_string(*spec.declared_ssrc) + " is already used in conference " +
                       std::to_string(id_) + (output ? " by one of the mixer's own output streams"
                                                      : " by participant " + std::to_string(holder->id))};
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

Result<RekeyResult> Conference::rekey(const srtp::MasterKey& key, std::int64_t now_us) {
  if (key.suite != spec_.group_key.suite) {
    return Error{ErrorCode::InvalidArgument, "key.suite must stay " + std::string(srtp::name(spec_.group_key.suite)) +
                                                 " for the life of the conference"};
  }
  const auto added = srtp_->add_master_key(key);
  if (added.status != srtp::SetupStatus::Ok) return setup_error(added.status, "key");
  // Inbound accepts the old and the new key: a key older than the old one,
  // still in its grace window from an earlier rekey, goes now.
  expire_group_keys_before(std::numeric_limits<std::int64_t>::max());
  // Inbound: every stream under the group key accepts the new key at once and
  // the old one until the grace window ends (by MKI where present).
  for (const auto& p : participants_) {
    if (p && p->ssrc && !p->own_key) srtp_->add_stream_key(*p->ssrc, added.handle);
  }
  // Outbound: each output stream switches at one packet boundary, which is now:
  // commands run between bursts, so no packet is half under either key.
  RekeyResult result;
  for (auto& stream : output_streams_) {
    srtp_->add_stream_key(stream->ssrc, added.handle);
    srtp_->switch_sending_key(stream->ssrc, added.handle);
    result.first_new_seq_by_ssrc.emplace_back(stream->ssrc, stream->next_sequence);
  }
  pending_key_removals_.push_back({now_us + rekey_grace_us_, group_keys_.front(), std::nullopt});
  group_keys_.insert(group_keys_.begin(), added.handle);
  publish(events_, events_dropped_, Event::Kind::RekeyDone, id_, 0,
          "group key replaced; %zu output streams switched, old key accepted for %lld ms more",
          result.first_new_seq_by_ssrc.size(), static_cast<long long>(rekey_grace_us_ / 1000));
  return result;
}

Status Conference::rekey_participant(ParticipantId id, const srtp::MasterKey& key, std::int64_t now_us) {
  auto* p = find(id);
  if (!p) {
    return Error{ErrorCode::NotFound,
                 "participant " + std::to_string(id) + " is not in conference " + std::to_string(id_)};
  }
  if (!p->own_key) {
    return Error{ErrorCode::FailedPrecondition, "participant " + std::to_string(id) +
                                                    " uses the conference group key; rekey the conference instead"};
  }
  const auto added = srtp_->add_master_key(key);
  if (added.status != srtp::SetupStatus::Ok) return setup_error(added.status, "key");
  if (p->ssrc) srtp_->add_stream_key(*p->ssrc, added.handle);
  pending_key_removals_.push_back({now_us + rekey_grace_us_, *p->own_key, id});
  p->own_key = added.handle;
  publish(events_, events_dropped_, Event::Kind::RekeyDone, id_, id, "participant %u inbound key replaced", id);
  return ok_status();
}

void Conference::expire_keys(std::int64_t now_us) {
  for (auto it = pending_key_removals_.begin(); it != pending_key_removals_.end();) {
    if (it->at_us > now_us) {
      ++it;
      continue;
    }
    if (it->participant) {
      if (auto* p = find(*it->participant); p && p->ssrc) srtp_->remove_stream_key(*p->ssrc, it->key);
      srtp_->remove_master_key(it->key);
    } else {
      remove_group_key(it->key);
    }
    it = pending_key_removals_.erase(it);
  }
}

void Conference::expire_group_keys_before(std::int64_t deadline_us) {
  for (auto it = pending_key_removals_.begin(); it != pending_key_removals_.end();) {
    if (it->participant || it->at_us > deadline_us) {
      ++it;
      continue;
    }
    remove_group_key(it->key);
    it = pending_key_removals_.erase(it);
  }
}

void Conference::remove_group_key(srtp::KeyHandle key) {
  for (const auto& p : participants_) {
    if (p && p->ssrc && !p->own_key) srtp_->remove_stream_key(*p->ssrc, key);
  }
  for (const auto& stream : output_streams_) srtp_->remove_stream_key(stream->ssrc, key);
  std::erase(group_keys_, key);
  srtp_->remove_master_key(key);
}

void Conference::report(Participant& p, Event::Kind kind, std::int64_t now_us, const char* what) {
  if (now_us - p.last_event_us < kEventRateLimitUs) return;
  p.last_event_us = now_us;
  publish(events_, events_dropped_, kind, id_, p.id, "participant %u: %s", p.id, what);
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
  srtp_->unprotect(std::span(views_).first(rtp_count));
  srtp_->unprotect_rtcp(std::span(views_).subspan(rtp_count));

  std::size_t rtp_index = 0, rtcp_index = rtp_count;
  for (const auto& s : staged_) {
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
  const auto frames = mixer_->tick();
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
    ++stream.packets;
    stream.octets += static_cast<std::uint32_t>(tx_frames_[i]->payload.size());
    if (now_us >= stream.next_report_us) {
      stream.next_report_us = now_us + kSenderReportIntervalUs;
      send_sender_report(stream, rtp_timestamp_of(*tx_frames_[i]), transmitter);
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
void Conference::rotate_ssrc(OutputStream& stream, std::uint32_t frame_index) {
  const std::uint32_t old_ssrc = stream.ssrc;
  const auto owner = ssrcs_.owner_of(old_ssrc);
  const std::uint32_t fresh = ssrcs_.claim_fresh(owner.value_or(SsrcOwner{SsrcOwner::Kind::OutputStream, 0}));
  if (srtp_->add_stream(fresh, group_keys_, 0) != srtp::SetupStatus::Ok) {
    ssrcs_.release(fresh);
    return;  // keep the old SSRC; counted so an operator sees it
  }
  srtp_->remove_stream(old_ssrc);
  ssrcs_.release(old_ssrc);
  stream.ssrc = fresh;
  const auto start = static_cast<std::uint16_t>((fresh * 2654435761u >> 16) & 0x7FFF);
  stream.sequence_offset = static_cast<std::uint16_t>(start - frame_index);
  stream.packets_under_ssrc = 0;
  stream.packets = stream.octets = 0;
  stream.next_report_us = 0;  // an SR for the new SSRC right away
  stream.mark_next = true;
  ++counters_.ssrc_rotations;
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
  if (stream.packets_under_ssrc >= max_packets_per_ssrc_) rotate_ssrc(stream, frame.frame_index);
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
}

void Conference::send_sender_report(OutputStream& stream, std::uint32_t rtp_timestamp, Transmitter& transmitter) {
  std::uint8_t buffer[256];
  packet::SenderInfo info{ntp_now(), rtp_timestamp, stream.packets, stream.octets};
  const auto sr = packet::build_rtcp_sender_report(buffer, stream.ssrc, info, {});
  if (!sr) return;
  const auto sdes = packet::build_rtcp_sdes_cname(std::span(buffer).subspan(sr.length), stream.ssrc, "mrfp");
  if (!sdes) return;
  send_rtcp(buffer, sr.length + sdes.length, destinations_, transmitter);
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
    if (const auto* jitter = mixer_->jitter_stats(p->handle)) {
      ps.counters.jitter_lost = jitter->lost;
      ps.counters.jitter_late += jitter->late;
      ps.counters.concealed = jitter->concealed;
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
