#include "mixer/conference_mixer.h"

#include <algorithm>
#include <cstring>

#include "mixer/audio_level.h"
#include "mixer/mix.h"

namespace mrfp::mixer {
namespace {

constexpr std::size_t codec_index(Codec codec) { return static_cast<std::size_t>(codec); }
constexpr std::array<Codec, 3> kAllCodecs{Codec::Pcmu, Codec::Pcma, Codec::Opus};

// The longest Opus packet is 120 ms (RFC 6716 §3.2.5): 5760 samples at 48 kHz.
constexpr std::size_t kMaxDecodedSamples = 5760;

bool is_valid_frame_ms(std::uint32_t ms) { return ms == 10 || ms == 20 || ms == 30 || ms == 40 || ms == 60; }
bool is_valid_mix_rate(std::uint32_t hz) { return hz == 8000 || hz == 16000 || hz == 48000; }

// G.711 runs at 8 kHz only; Opus can hand us PCM at any mix rate (codec.h).
std::uint32_t codec_pcm_rate(Codec codec, std::uint32_t mix_rate_hz) {
  return codec == Codec::Opus ? mix_rate_hz : 8000;
}

}  // namespace

std::string_view describe(MixerStatus status) {
  switch (status) {
    case MixerStatus::Ok: return "ok";
    case MixerStatus::InvalidMixRate: return "mix rate must be 8000, 16000 or 48000 Hz";
    case MixerStatus::InvalidFrameDuration: return "frame duration must be 10, 20, 30, 40 or 60 ms (not 30 with Opus)";
    case MixerStatus::InvalidCapacity: return "max_participants must be at least 1";
    case MixerStatus::CodecNotInConference: return "participant codec is not among the conference's codecs";
    case MixerStatus::ConferenceFull: return "conference is at max_participants";
    case MixerStatus::TooManyStreamGroups: return "too many distinct (codec, payload type) pairs";
    case MixerStatus::UnknownParticipant: return "unknown or removed participant handle";
    case MixerStatus::CodecFailure: return "could not build an encoder, decoder or resampler";
  }
  return "unknown status";
}

void ConferenceMixer::StreamEncoder::reset() {
  encoder->reset();
  if (from_mix) from_mix->reset();
}

// --- creation ---------------------------------------------------------------

std::unique_ptr<ConferenceMixer> ConferenceMixer::create(const ConferenceConfig& requested, MixerStatus* status) {
  auto fail = [status](MixerStatus why) -> std::unique_ptr<ConferenceMixer> {
    if (status) *status = why;
    return nullptr;
  };
  ConferenceConfig config = requested;
  if (config.max_participants == 0) return fail(MixerStatus::InvalidCapacity);
  if (config.codecs.empty()) return fail(MixerStatus::CodecNotInConference);
  if (!is_valid_frame_ms(config.frame_ms)) return fail(MixerStatus::InvalidFrameDuration);
  if (config.mix_rate_hz == 0) {
    // The lowest rate that loses nothing of any codec in use: Opus is fullband.
    config.mix_rate_hz = config.codecs.contains(Codec::Opus) ? 48000 : 8000;
  }
  if (!is_valid_mix_rate(config.mix_rate_hz)) return fail(MixerStatus::InvalidMixRate);
  for (Codec codec : kAllCodecs) {
    if (!config.codecs.contains(codec)) continue;
    const CodecConfig cc{codec, codec_pcm_rate(codec, config.mix_rate_hz), config.frame_ms, config.opus};
    const CodecStatus cs = validate(cc);
    if (cs == CodecStatus::UnsupportedFrameDuration) return fail(MixerStatus::InvalidFrameDuration);
    if (cs != CodecStatus::Ok) return fail(MixerStatus::CodecFailure);
  }
  std::unique_ptr<ConferenceMixer> mixer(new ConferenceMixer(config));
  const MixerStatus built = mixer->build();
  if (built != MixerStatus::Ok) return fail(built);
  if (status) *status = MixerStatus::Ok;
  return mixer;
}

namespace {
SpeakerSelectionConfig selection_config(const ConferenceConfig& c) {
  SpeakerSelectionConfig s;
  s.max_speakers = c.max_speakers;
  s.activity_threshold_dbov = c.activity_threshold_dbov;
  s.hysteresis_db = c.hysteresis_db;
  s.hold_ticks = c.frame_ms == 0 ? 0 : (c.hold_ms + c.frame_ms - 1) / c.frame_ms;
  s.decay_sixteenth_db_per_tick = 16 * c.frame_ms / 20;  // 1 dB per 20 ms: 50 dB/s
  s.trust_voice_activity_flag = c.trust_voice_activity_flag;
  return s;
}

// A frame the decoder turns into audio: a packet, or a gap its PLC or FEC fills.
bool carries_audio(const PlayoutFrame& f) { return f.kind == PlayoutKind::Packet || f.kind == PlayoutKind::Conceal; }
}  // namespace

ConferenceMixer::ConferenceMixer(const ConferenceConfig& config)
    : config_(config), selection_(selection_config(config), config.max_participants) {}

ConferenceMixer::~ConferenceMixer() = default;

MixerStatus ConferenceMixer::build() {
  const std::uint32_t n = config_.max_participants;
  mix_samples_ = samples_per_frame(config_.mix_rate_hz, config_.frame_ms);
  participants_.resize(n);
  live_slots_.reserve(n);
  free_slots_.reserve(n);
  for (std::uint32_t slot = n; slot-- > 0;) free_slots_.push_back(slot);  // slot 0 first
  pcm_.assign(static_cast<std::size_t>(n) * mix_samples_, 0);
  native_pcm_.assign(kMaxDecodedSamples, 0);
  bus_.assign(mix_samples_, 0);
  mixed_pcm_.assign(mix_samples_, 0);
  minus_pcm_.assign(mix_samples_, 0);
  encoder_pcm_.assign(mix_samples_, 0);
  single_listener_.resize(n);

  // Mix-minus encoders: two per seat, since within one tick a leaving speaker
  // may still hold its encoder when its successor takes one; one per
  // participant when everybody may have its own stream (EveryParticipant, K = 0).
  const bool own_stream_each = config_.policy == Policy::EveryParticipant || config_.max_speakers == 0;
  const std::uint32_t pool_size = own_stream_each ? n : std::min(2 * config_.max_speakers, n);
  for (Codec codec : kAllCodecs) {
    if (!config_.codecs.contains(codec)) continue;
    auto& pool = encoder_pool_[codec_index(codec)];
    auto& free_list = free_encoders_[codec_index(codec)];
    pool.reserve(pool_size);
    free_list.reserve(pool_size);
    for (std::uint32_t i = 0; i < pool_size; ++i) {
      auto encoder = make_stream_encoder(codec);
      if (!encoder) return MixerStatus::CodecFailure;
      pool.push_back(std::move(encoder));
    }
    for (std::uint32_t i = pool_size; i-- > 0;) free_list.push_back(static_cast<std::int32_t>(i));
  }

  if (config_.preallocate_participants) {
    for (Participant& p : participants_) {
      for (Codec codec : kAllCodecs) {
        if (!config_.codecs.contains(codec)) continue;
        p.chains[codec_index(codec)] = make_receive_chain(codec);
        if (!p.chains[codec_index(codec)]) return MixerStatus::CodecFailure;
      }
    }
  }

  const std::size_t max_frames = kMaxStreamGroups + n;
  outputs_.reserve(max_frames);
  contributor_storage_.resize(max_frames * kMaxContributors);
  return MixerStatus::Ok;
}

std::unique_ptr<ConferenceMixer::StreamEncoder> ConferenceMixer::make_stream_encoder(Codec codec) const {
  auto stream = std::make_unique<StreamEncoder>();
  const std::uint32_t rate = codec_pcm_rate(codec, config_.mix_rate_hz);
  stream->encoder = make_encoder(CodecConfig{codec, rate, config_.frame_ms, config_.opus});
  if (!stream->encoder) return nullptr;
  if (rate != config_.mix_rate_hz) {
    stream->from_mix = Resampler::create(config_.mix_rate_hz, rate);
    if (!stream->from_mix) return nullptr;
  }
  return stream;
}

std::unique_ptr<ConferenceMixer::ReceiveChain> ConferenceMixer::make_receive_chain(Codec codec) const {
  auto chain = std::make_unique<ReceiveChain>();
  JitterBufferConfig jb;
  jb.clock_rate_hz = rtp_clock_rate(codec);
  jb.frame_ms = config_.frame_ms;
  jb.min_depth_frames = config_.jitter_min_depth_frames;
  jb.max_depth_frames = config_.jitter_max_depth_frames;
  jb.capacity_frames = config_.jitter_capacity_frames;
  chain->jitter = std::make_unique<JitterBuffer>(jb);
  const std::uint32_t rate = codec_pcm_rate(codec, config_.mix_rate_hz);
  chain->decoder = make_decoder(CodecConfig{codec, rate, config_.frame_ms, config_.opus});
  if (!chain->decoder) return nullptr;
  if (rate != config_.mix_rate_hz) {
    chain->to_mix = Resampler::create(rate, config_.mix_rate_hz);
    if (!chain->to_mix) return nullptr;
  }
  return chain;
}

// --- participants -----------------------------------------------------------

ConferenceMixer::Participant* ConferenceMixer::find(ParticipantHandle h) {
  if (h.slot >= participants_.size()) return nullptr;
  Participant& p = participants_[h.slot];
  return p.in_use && p.generation == h.generation ? &p : nullptr;
}

const ConferenceMixer::Participant* ConferenceMixer::find(ParticipantHandle h) const {
  return const_cast<ConferenceMixer*>(this)->find(h);
}

AddParticipantResult ConferenceMixer::add_participant(const ParticipantConfig& pc) {
  if (!config_.codecs.contains(pc.codec)) return {MixerStatus::CodecNotInConference, {}};
  if (free_slots_.empty()) return {MixerStatus::ConferenceFull, {}};

  // The participant's group: the listeners who can share its common stream.
  std::uint32_t group = kMaxStreamGroups;
  for (std::uint32_t g = 0; g < kMaxStreamGroups; ++g) {
    if (groups_[g].in_use && groups_[g].codec == pc.codec && groups_[g].payload_type == pc.payload_type) {
      group = g;
      break;
    }
  }
  if (group == kMaxStreamGroups) {
    for (std::uint32_t g = 0; g < kMaxStreamGroups; ++g) {
      if (groups_[g].in_use) continue;
      // Groups live as long as the conference, so a common stream id always
      // names the same (codec, payload type).
      auto encoder = make_stream_encoder(pc.codec);
      if (!encoder) return {MixerStatus::CodecFailure, {}};
      StreamGroup& sg = groups_[g];
      sg.encoder.encoder = std::move(encoder->encoder);
      sg.encoder.from_mix = std::move(encoder->from_mix);
      sg.in_use = true;
      sg.codec = pc.codec;
      sg.payload_type = pc.payload_type;
      sg.listeners.resize(config_.max_participants);
      group = g;
      break;
    }
    if (group == kMaxStreamGroups) return {MixerStatus::TooManyStreamGroups, {}};
  }

  const std::uint32_t slot = free_slots_.back();
  Participant& p = participants_[slot];
  auto& chain = p.chains[codec_index(pc.codec)];
  if (!chain) {
    chain = make_receive_chain(pc.codec);
    if (!chain) return {MixerStatus::CodecFailure, {}};
  } else {
    chain->jitter->reset();
    chain->decoder->reset();
    if (chain->to_mix) chain->to_mix->reset();
  }
  free_slots_.pop_back();

  const std::uint32_t generation = p.generation;
  auto chains = std::move(p.chains);
  p = Participant{};
  p.chains = std::move(chains);
  p.generation = generation;
  p.in_use = true;
  p.codec = pc.codec;
  p.payload_type = pc.payload_type;
  p.direction = pc.direction;
  p.group = static_cast<std::uint8_t>(group);
  p.chain = p.chains[codec_index(pc.codec)].get();
  p.jitter = p.chain->jitter.get();
  p.live_index = static_cast<std::uint32_t>(live_slots_.size());
  live_slots_.push_back(slot);
  ++groups_[group].members;
  selection_.reset(slot);
  const ParticipantHandle handle{slot, generation};
  single_listener_[slot] = handle;
  return {MixerStatus::Ok, handle};
}

MixerStatus ConferenceMixer::remove_participant(ParticipantHandle h) {
  Participant* p = find(h);
  if (!p) return MixerStatus::UnknownParticipant;
  selection_.reset(h.slot);
  release_encoder(*p);
  --groups_[p->group].members;
  // Swap-remove from the dense list.
  const std::uint32_t moved = live_slots_.back();
  live_slots_[p->live_index] = moved;
  participants_[moved].live_index = p->live_index;
  live_slots_.pop_back();
  p->in_use = false;
  ++p->generation;  // every outstanding handle to this slot is now stale
  free_slots_.push_back(h.slot);
  return MixerStatus::Ok;
}

MixerStatus ConferenceMixer::set_muted(ParticipantHandle h, bool muted) {
  Participant* p = find(h);
  if (!p) return MixerStatus::UnknownParticipant;
  p->muted = muted;
  return MixerStatus::Ok;
}

MixerStatus ConferenceMixer::set_deaf(ParticipantHandle h, bool deaf) {
  Participant* p = find(h);
  if (!p) return MixerStatus::UnknownParticipant;
  p->deaf = deaf;
  return MixerStatus::Ok;
}

MixerStatus ConferenceMixer::set_on_hold(ParticipantHandle h, bool on_hold) {
  Participant* p = find(h);
  if (!p) return MixerStatus::UnknownParticipant;
  p->on_hold = on_hold;
  return MixerStatus::Ok;
}

MixerStatus ConferenceMixer::set_direction(ParticipantHandle h, Direction direction) {
  Participant* p = find(h);
  if (!p) return MixerStatus::UnknownParticipant;
  p->direction = direction;
  return MixerStatus::Ok;
}

MixerStatus ConferenceMixer::push(ParticipantHandle h, const RtpPacketInfo& packet, PushResult* result) {
  Participant* p = find(h);
  if (!p) return MixerStatus::UnknownParticipant;
  const PushResult r = p->jitter->push(packet);
  if (result) *result = r;
  return MixerStatus::Ok;
}

bool ConferenceMixer::is_speaker(ParticipantHandle h) const {
  const Participant* p = find(h);
  return p && selection_.is_speaker(h.slot);
}

std::uint64_t ConferenceMixer::decoded_frames(ParticipantHandle h) const {
  const Participant* p = find(h);
  return p ? p->decodes : 0;
}

const JitterBuffer* ConferenceMixer::jitter_buffer(ParticipantHandle h) const {
  const Participant* p = find(h);
  return p ? p->chain->jitter.get() : nullptr;
}

// Muted, held or not sending (RFC 3264 §5.1 recvonly/inactive): not mixed.
bool ConferenceMixer::is_mixable(const Participant& p) const {
  return !p.muted && !p.on_hold && sends_to_mixer(p.direction);
}

// Deaf, held or not receiving (sendonly/inactive): gets no stream.
bool ConferenceMixer::is_listener(const Participant& p) const {
  return !p.deaf && !p.on_hold && receives_from_mixer(p.direction);
}

// --- the tick ---------------------------------------------------------------

std::span<std::int16_t> ConferenceMixer::pcm_of(std::uint32_t slot) {
  return {pcm_.data() + static_cast<std::size_t>(slot) * mix_samples_, mix_samples_};
}

void ConferenceMixer::decode(std::uint32_t slot) {
  Participant& p = participants_[slot];
  ReceiveChain& chain = *p.chain;
  p.decoded_this_tick = true;
  if (!p.decoded_last_tick) {
    // The decoder missed frames (the participant was not selected, or not
    // sending): its prediction state is stale, start it afresh.
    chain.decoder->reset();
    if (chain.to_mix) chain.to_mix->reset();
    ++stats_.decoder_resets;
  }
  const PlayoutFrame& f = p.frame;
  DecodeResult r;
  if (f.kind == PlayoutKind::Packet) {
    r = chain.decoder->decode(f.payload, native_pcm_);
  } else if (!f.payload.empty() && chain.decoder->supports_fec()) {
    r = chain.decoder->decode_fec(f.payload, native_pcm_);  // RFC 7587 §3.1.2
  } else {
    r = chain.decoder->conceal(native_pcm_);
  }
  ++p.decodes;
  ++stats_.decodes;
  if (r.status != CodecStatus::Ok) {
    ++stats_.codec_errors;
    p.has_pcm = false;
    return;
  }
  const std::size_t frame = chain.decoder->samples_per_frame();
  if (r.samples < frame) std::fill(native_pcm_.begin() + static_cast<std::ptrdiff_t>(r.samples),
                                   native_pcm_.begin() + static_cast<std::ptrdiff_t>(frame), 0);
  const std::span<const std::int16_t> native(native_pcm_.data(), frame);
  const std::span<std::int16_t> out = pcm_of(slot);
  if (chain.to_mix) {
    const ResampleResult rr = chain.to_mix->process(native, out);
    if (rr.status != ResamplerStatus::Ok || rr.output_written != out.size()) {
      ++stats_.codec_errors;
      p.has_pcm = false;
      return;
    }
  } else {
    std::memcpy(out.data(), native.data(), out.size() * sizeof(std::int16_t));
  }
  p.has_pcm = true;
}

std::int32_t ConferenceMixer::acquire_encoder(Codec codec) {
  auto& free_list = free_encoders_[codec_index(codec)];
  if (free_list.empty()) return -1;  // cannot happen: the pool has a seat each
  const std::int32_t index = free_list.back();
  free_list.pop_back();
  encoder_pool_[codec_index(codec)][static_cast<std::size_t>(index)]->reset();
  return index;
}

void ConferenceMixer::release_encoder(Participant& p) {
  if (p.encoder_index < 0) return;
  free_encoders_[codec_index(p.codec)].push_back(p.encoder_index);
  p.encoder_index = -1;
}

bool ConferenceMixer::encode(StreamEncoder& stream, std::span<const std::int16_t> mix,
                             std::span<const std::uint8_t>* payload) {
  std::span<const std::int16_t> input = mix;
  if (stream.from_mix) {
    const std::size_t out_samples = stream.encoder->samples_per_frame();
    const ResampleResult rr = stream.from_mix->process(mix, {encoder_pcm_.data(), out_samples});
    if (rr.status != ResamplerStatus::Ok) {
      ++stats_.codec_errors;
      return false;
    }
    input = {encoder_pcm_.data(), out_samples};
  }
  const EncodeResult r = stream.encoder->encode(input, stream.payload);
  ++stats_.encodes;
  if (r.status != CodecStatus::Ok) {
    ++stats_.codec_errors;
    return false;
  }
  if (r.bytes == 0) return false;  // Opus DTX: nothing to send this frame
  *payload = {stream.payload.data(), r.bytes};
  return true;
}

std::span<const Contributor> ConferenceMixer::contributors_except(std::uint32_t excluded_slot) {
  Contributor* first = contributor_storage_.data() + contributor_used_;
  std::size_t count = 0;
  for (std::uint32_t slot : selection_.speakers()) {
    if (slot == excluded_slot) continue;
    if (count == kMaxContributors) break;
    first[count++] = Contributor{handle_of(slot), participants_[slot].level};
  }
  contributor_used_ += count;
  return {first, count};
}

std::uint32_t ConferenceMixer::rtp_timestamp_of_this_tick(Codec codec) const {
  const std::uint64_t per_frame = samples_per_frame(rtp_clock_rate(codec), config_.frame_ms);
  return static_cast<std::uint32_t>((stats_.ticks - 1) * per_frame);
}

void ConferenceMixer::emit_mix_minus(std::uint32_t slot, bool stream_switched) {
  Participant& p = participants_[slot];
  std::span<const std::int16_t> hears = mixed_pcm_;  // a silent speaker hears the full mix
  if (selection_.is_speaker(slot) && p.has_pcm) {
    mix_minus(bus_, pcm_of(slot), minus_pcm_);
    hears = minus_pcm_;
  }
  StreamEncoder& stream = *encoder_pool_[codec_index(p.codec)][static_cast<std::size_t>(p.encoder_index)];
  std::span<const std::uint8_t> payload;
  if (!encode(stream, hears, &payload)) return;
  OutputFrame& f = outputs_.emplace_back();
  f.stream = OutputStreamId::mix_minus(handle_of(slot));
  f.codec = p.codec;
  f.payload_type = p.payload_type;
  f.marker = stream_switched;
  f.frame_index = p.mix_minus_frame_index++;
  f.rtp_timestamp = rtp_timestamp_of_this_tick(p.codec);
  f.payload = payload;
  f.listeners = {&single_listener_[slot], 1};
  f.contributors = contributors_except(slot);
}

void ConferenceMixer::emit_common(StreamGroup& group, std::uint32_t group_index, bool talk_spurt_start) {
  std::span<const std::uint8_t> payload;
  if (!encode(group.encoder, mixed_pcm_, &payload)) return;
  OutputFrame& f = outputs_.emplace_back();
  f.stream = OutputStreamId::common(group_index);
  f.codec = group.codec;
  f.payload_type = group.payload_type;
  f.marker = group.frame_index == 0 || group.listener_joined || talk_spurt_start;
  f.frame_index = group.frame_index++;
  f.rtp_timestamp = rtp_timestamp_of_this_tick(group.codec);
  f.payload = payload;
  f.listeners = {group.listeners.data(), group.listener_count};
  f.contributors = contributors_except(ParticipantHandle::kInvalidSlot);
}

std::span<const OutputFrame> ConferenceMixer::tick(std::int64_t now_us) {
  ++stats_.ticks;
  outputs_.clear();
  contributor_used_ = 0;
  const bool decode_everyone = config_.policy == Policy::EveryParticipant;

  // 1. Every participant's frame of this tick, and its level: from the RFC 6464
  //    extension when it has one (no decoding), else measured on the decoded PCM.
  selection_.begin_tick();
  const std::size_t live = live_slots_.size();
  for (std::size_t i = 0; i < live; ++i) {
    // Thousands of participants do not fit in L2: fetch ahead, the
    // participant first, then (once it is in cache) its jitter buffer, then
    // (once that is) the slot headers its pop() reads.
    constexpr std::size_t kPrefetchDistance = 4;
    if (i + 3 * kPrefetchDistance < live) __builtin_prefetch(&participants_[live_slots_[i + 3 * kPrefetchDistance]]);
    if (i + 2 * kPrefetchDistance < live) {
      participants_[live_slots_[i + 2 * kPrefetchDistance]].jitter->prefetch();
      selection_.prefetch(live_slots_[i + 2 * kPrefetchDistance]);
    }
    if (i + kPrefetchDistance < live) participants_[live_slots_[i + kPrefetchDistance]].jitter->prefetch_playout();
    const std::uint32_t slot = live_slots_[i];
    Participant& p = participants_[slot];
    p.decoded_last_tick = p.decoded_this_tick;
    p.decoded_this_tick = false;
    p.has_pcm = false;
    p.frame = p.jitter->pop(now_us);  // drained even when not mixed, so it stays current
    p.level = SpeakerSelection::kSilenceDbov;
    if (!is_mixable(p)) continue;

    bool voice = false;
    const PlayoutFrame& f = p.frame;
    if (carries_audio(f)) {
      // A concealed frame has no level of its own: a sender that uses the
      // extension is ranked by its latest one.
      const std::optional<AudioLevel> level =
          f.kind == PlayoutKind::Packet ? f.audio_level : p.jitter->latest_audio_level();
      if (decode_everyone || !level) decode(slot);
      if (level) {
        p.level = std::min(level->level, SpeakerSelection::kSilenceDbov);
        voice = level->voice_activity;
      } else {
        p.level = p.has_pcm ? compute_audio_level(pcm_of(slot)) : SpeakerSelection::kSilenceDbov;
        voice = true;  // our own measurement: the threshold decides
      }
    }
    selection_.observe(slot, p.level, voice);
  }
  selection_.end_tick();

  // 2. Decode the speakers not decoded yet, and mix them in 32 bits.
  clear_bus(bus_);
  const auto speakers = selection_.speakers();
  for (const std::uint32_t slot : speakers) {
    Participant& p = participants_[slot];
    if (!p.decoded_this_tick && carries_audio(p.frame)) decode(slot);
    if (p.has_pcm) accumulate(bus_, pcm_of(slot));
  }
  saturate_to_pcm16(bus_, mixed_pcm_);
  // A talker still waiting for a seat is decoded too, not mixed: its decoder
  // then follows the stream from the first active frame, as the sender's
  // encoder did. Opus predicts gains and band energies from frame to frame,
  // and a decoder started in the middle of a talk-spurt plays it far too
  // quietly for 100-200 ms while it converges.
  for (const std::uint32_t slot : selection_.waiting()) {
    Participant& p = participants_[slot];
    if (!p.decoded_this_tick && carries_audio(p.frame)) decode(slot);
  }

  // 3. Route every listener: its own mix-minus stream (a speaker, or everybody
  //    under EveryParticipant) or its group's common stream.
  for (StreamGroup& g : groups_) {
    g.listener_count = 0;
    g.listener_joined = false;
  }
  for (std::size_t i = 0; i < live; ++i) {
    constexpr std::size_t kPrefetchDistance = 8;
    if (i + kPrefetchDistance < live) {
      __builtin_prefetch(&participants_[live_slots_[i + kPrefetchDistance]]);
      selection_.prefetch(live_slots_[i + kPrefetchDistance]);
    }
    const std::uint32_t slot = live_slots_[i];
    Participant& p = participants_[slot];
    const bool listener = is_listener(p);
    const bool own_stream = listener && (decode_everyone || selection_.is_speaker(slot));
    if (!own_stream && p.encoder_index >= 0) release_encoder(p);  // left its seat
    if (!listener) {
      p.received_last_tick = false;
      continue;
    }
    const OutputStreamId stream =
        own_stream ? OutputStreamId::mix_minus(handle_of(slot)) : OutputStreamId::common(p.group);
    const bool switched = !p.received_last_tick || !(p.last_stream == stream);
    p.last_stream = stream;
    p.received_last_tick = true;
    if (own_stream) {
      if (p.encoder_index < 0) p.encoder_index = acquire_encoder(p.codec);
      if (p.encoder_index >= 0) emit_mix_minus(slot, switched);
    } else {
      StreamGroup& g = groups_[p.group];
      g.listeners[g.listener_count++] = handle_of(slot);
      g.listener_joined = g.listener_joined || switched;
    }
  }

  // 4. One encode per common stream, shared by all its listeners.
  const bool talk_spurt_start = !speakers.empty() && !anyone_spoke_last_tick_;
  anyone_spoke_last_tick_ = !speakers.empty();
  for (std::uint32_t g = 0; g < kMaxStreamGroups; ++g) {
    StreamGroup& group = groups_[g];
    if (group.in_use && group.listener_count > 0) emit_common(group, g, talk_spurt_start);
  }
  return outputs_;
}

}  // namespace mrfp::mixer
