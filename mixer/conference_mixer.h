// One conference's audio, one tick (one frame time) at a time: who is heard,
// the mix, the mix-minus of each speaker, and encoding each output stream once.
//
// The dataplane drives it from the lcore that owns the conference:
//
//   auto mixer = ConferenceMixer::create(config, &status);       // allocates
//   auto [status, alice] = mixer->add_participant({Codec::Opus, 111});
//   mixer->push(alice, packet);              // every received RTP packet
//   for (const OutputFrame& f : mixer->tick()) { ... }  // every frame_ms
//
// Policy::SharedStreams (the point of this design):
//   * Every participant's level is known each tick, from the RFC 6464
//     client-to-mixer extension when its packet carries one (no decoding), or
//     else by decoding the frame and measuring it.
//   * SpeakerSelection picks the top K with hysteresis and a hold time.
//   * Only speakers are decoded (plus those without the extension, to measure
//     them, and up to K talkers waiting for a seat, so that their decoders
//     follow the stream from the first active frame). A participant not
//     decoded on the previous tick has its decoder reset before it is decoded
//     again: its codec state is stale.
//   * The speakers are summed in 32 bits; each speaker's mix-minus is the sum
//     less its own frame, so nobody hears themselves.
//   * Encoding: one *common* stream per group of listeners sharing (codec,
//     payload type) carries the full mix to every participant who is not a
//     speaker; one *mix-minus* stream per speaker. So a tick costs K decodes
//     and at most K + groups encodes, whatever the number of listeners.
// Policy::EveryParticipant (the reference, as FreeSWITCH mod_conference and
// Janus AudioBridge do it): every sender is decoded every tick and every
// listener gets its own mix-minus stream, encoded for it alone.
//
// Allocation: create() builds the tables for max_participants and the
// mix-minus encoder pools (2K per codec, or max_participants under
// EveryParticipant or K = 0). add_participant() builds a slot's jitter buffer
// and decoder the first time that slot serves a codec and reuses them
// afterwards (or create() builds them all up front with
// preallocate_participants), and the first participant of a new (codec,
// payload type) builds that group's encoder. tick() and push() never allocate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mixer/codec.h"
#include "mixer/jitter_buffer.h"
#include "mixer/media_types.h"
#include "mixer/resampler.h"
#include "mixer/speaker_selection.h"

namespace mrfp::mixer {

enum class MixerStatus : std::uint8_t {
  Ok,
  InvalidMixRate,         // mix rate not 8000, 16000 or 48000, or too low for a codec in use
  InvalidFrameDuration,   // not 10/20/30/40/60 ms, or 30 ms with Opus (see codec.h)
  InvalidCapacity,        // max_participants is 0
  CodecNotInConference,   // participant codec not among ConferenceConfig::codecs
  ConferenceFull,         // max_participants reached
  TooManyStreamGroups,    // more distinct (codec, payload type) pairs than kMaxStreamGroups
  UnknownParticipant,     // handle never issued, or its participant was removed
  CodecFailure,           // an encoder, decoder or resampler could not be built
};

std::string_view describe(MixerStatus status);

// The codecs a conference may carry.
class CodecSet {
 public:
  constexpr CodecSet() = default;
  constexpr CodecSet(std::initializer_list<Codec> codecs) {
    for (Codec c : codecs) add(c);
  }
  constexpr void add(Codec c) { bits_ |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(c)); }
  constexpr bool contains(Codec c) const { return (bits_ >> static_cast<unsigned>(c)) & 1u; }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  std::uint8_t bits_ = 0;
};

struct ConferenceConfig {
  std::uint32_t max_participants = 0;
  CodecSet codecs{Codec::Pcmu, Codec::Pcma};
  // 8000, 16000 or 48000; 0 picks the lowest that serves every codec in use:
  // 8 kHz for a G.711-only conference (nothing is resampled), 48 kHz with Opus.
  std::uint32_t mix_rate_hz = 0;
  std::uint32_t frame_ms = 20;  // 10, 20, 30, 40 or 60 (not 30 with Opus)
  // K. 0 = every active participant is a speaker.
  std::uint32_t max_speakers = 3;
  Policy policy = Policy::SharedStreams;
  OpusEncoderSettings opus{};
  // Speaker selection tuning (see speaker_selection.h).
  std::uint8_t activity_threshold_dbov = 50;
  std::uint8_t hysteresis_db = 6;
  std::uint32_t hold_ms = 400;
  bool trust_voice_activity_flag = false;
  // Per-participant jitter buffer; clock rate and frame size come from the
  // codec and frame_ms.
  std::uint32_t jitter_min_depth_frames = 1;
  std::uint32_t jitter_max_depth_frames = 10;
  std::uint32_t jitter_capacity_frames = 16;
  // Build every slot's jitter buffer and decoder, for every codec in use, in
  // create(), so add_participant() allocates nothing (but a new group's
  // encoder). Costs ~20 KB (G.711) to ~40 KB (Opus) per slot and codec.
  bool preallocate_participants = false;
};

// Names a participant. The generation makes a removed participant's handle
// stale even after its slot is reused.
struct ParticipantHandle {
  static constexpr std::uint32_t kInvalidSlot = 0xffffffffu;
  std::uint32_t slot = kInvalidSlot;
  std::uint32_t generation = 0;
  friend constexpr bool operator==(ParticipantHandle, ParticipantHandle) = default;
};

struct ParticipantConfig {
  Codec codec = Codec::Pcmu;
  std::uint8_t payload_type = 0;  // RTP payload type of the streams it receives
  Direction direction = Direction::SendRecv;
};

struct AddParticipantResult {
  MixerStatus status = MixerStatus::Ok;
  ParticipantHandle handle{};
};

// A stable name for an output stream, for the dataplane to map to an SSRC:
// a common stream (one per group, lives as long as the conference) or a
// participant's mix-minus stream (lives as long as the participant).
struct OutputStreamId {
  enum class Kind : std::uint8_t { Common, MixMinus };
  Kind kind = Kind::Common;
  std::uint32_t index = 0;       // group index (Common) or participant slot (MixMinus)
  std::uint32_t generation = 0;  // participant generation (MixMinus), 0 for Common
  static constexpr OutputStreamId common(std::uint32_t group) { return {Kind::Common, group, 0}; }
  static constexpr OutputStreamId mix_minus(ParticipantHandle p) { return {Kind::MixMinus, p.slot, p.generation}; }
  friend constexpr bool operator==(const OutputStreamId&, const OutputStreamId&) = default;
};

// A speaker heard in an output frame: its RTP CSRC (RFC 3550 §5.1) and its
// level for the mixer-to-client extension (RFC 6465 §3), 0..127 in -dBov.
struct Contributor {
  ParticipantHandle participant{};
  std::uint8_t level_dbov = 127;
};

// One encoded frame of one output stream, to packetise, protect once and send
// to every listener. All spans stay valid until the next tick() (or add/remove).
struct OutputFrame {
  OutputStreamId stream{};
  Codec codec = Codec::Pcmu;
  std::uint8_t payload_type = 0;
  // Set on the first frame of a stream (a talk spurt: a speaker's mix-minus
  // stream starts), when the common stream goes from nobody speaking to
  // somebody, and when a listener has just moved onto this stream (the SSRC it
  // receives changed): RFC 3551 §4.1.
  bool marker = false;
  // Frames of this stream emitted before this one (the dataplane adds it to the
  // stream's random initial sequence number, RFC 3550 §5.1).
  std::uint32_t frame_index = 0;
  // Offset of this frame's first sample from the conference's RTP clock base,
  // in the codec's RTP clock (RFC 7587: 48 kHz for Opus). Shared by every
  // stream, so timestamps continue when a listener switches streams.
  std::uint32_t rtp_timestamp = 0;
  std::span<const std::uint8_t> payload{};
  std::span<const ParticipantHandle> listeners{};
  std::span<const Contributor> contributors{};  // at most 15 (the CSRC count is 4 bits)
};

struct MixerStats {
  std::uint64_t ticks = 0;
  std::uint64_t decodes = 0;          // decoder runs (decode, FEC or concealment)
  std::uint64_t decoder_resets = 0;   // decoders reset before use: new, or skipped frames
  std::uint64_t encodes = 0;
  std::uint64_t codec_errors = 0;     // decode/encode/resample failures (frame muted)
};

class ConferenceMixer {
 public:
  static constexpr std::uint32_t kMaxStreamGroups = 8;
  static constexpr std::size_t kMaxContributors = 15;

  static std::unique_ptr<ConferenceMixer> create(const ConferenceConfig& config, MixerStatus* status = nullptr);
  ~ConferenceMixer();
  ConferenceMixer(const ConferenceMixer&) = delete;
  ConferenceMixer& operator=(const ConferenceMixer&) = delete;

  AddParticipantResult add_participant(const ParticipantConfig& participant);
  MixerStatus remove_participant(ParticipantHandle participant);

  // Muted: not mixed (its packets are still drained). Deaf: receives nothing.
  // On hold: neither. Direction: as negotiated in SDP (RFC 3264 §5.1).
  MixerStatus set_muted(ParticipantHandle participant, bool muted);
  MixerStatus set_deaf(ParticipantHandle participant, bool deaf);
  MixerStatus set_on_hold(ParticipantHandle participant, bool on_hold);
  MixerStatus set_direction(ParticipantHandle participant, Direction direction);

  // Files one received RTP packet (already SRTP-checked) in the participant's
  // jitter buffer. packet.audio_level is the RFC 6464 extension when present.
  // *result (when non-null) says what the jitter buffer did with it.
  MixerStatus push(ParticipantHandle participant, const RtpPacketInfo& packet, PushResult* result = nullptr);
  // Thousands of participants outgrow the caches, so a burst is pushed in
  // passes whose memory waits overlap: prefetch_entry() for every packet, then
  // (some work later) prefetch_jitter_buffer(), which reads the entry, then
  // prefetch_jitter_slot() a few packets ahead of push().
  void prefetch_entry(ParticipantHandle participant) const {
    if (participant.slot < participants_.size()) __builtin_prefetch(&participants_[participant.slot]);
  }
  void prefetch_jitter_buffer(ParticipantHandle participant) const {
    if (participant.slot >= participants_.size()) return;
    if (const JitterBuffer* jitter = participants_[participant.slot].jitter) jitter->prefetch();
  }
  // A fourth pass, once the jitter buffer is in: the slot this packet goes to.
  void prefetch_jitter_slot(ParticipantHandle participant, std::uint16_t sequence) const {
    if (participant.slot >= participants_.size()) return;
    if (const JitterBuffer* jitter = participants_[participant.slot].jitter) jitter->prefetch_slot(sequence);
  }
  MixerStatus push(ParticipantHandle participant, std::uint16_t sequence, std::uint32_t timestamp,
                   std::span<const std::uint8_t> payload, std::optional<AudioLevel> level,
                   std::int64_t arrival_time_us, PushResult* result = nullptr) {
    return push(participant, RtpPacketInfo{sequence, timestamp, payload, level, arrival_time_us}, result);
  }

  // Mixes one frame time. The frames (and everything they point to) are owned
  // by the mixer and valid until the next call. `now_us`: the tick's time on
  // the clock of the packets' arrival times, so the jitter buffers can see how
  // long packets waited (JitterBuffer::pop); 0 when unknown.
  std::span<const OutputFrame> tick(std::int64_t now_us = 0);

  // --- inspection (tests, metrics) ---
  bool is_speaker(ParticipantHandle participant) const;
  std::span<const std::uint32_t> speaker_slots() const { return selection_.speakers(); }
  // Decoder runs for this participant since it was added.
  std::uint64_t decoded_frames(ParticipantHandle participant) const;
  const JitterBuffer* jitter_buffer(ParticipantHandle participant) const;
  const MixerStats& stats() const { return stats_; }
  const ConferenceConfig& config() const { return config_; }
  std::uint32_t mix_rate_hz() const { return config_.mix_rate_hz; }
  std::size_t mix_frame_samples() const { return mix_samples_; }
  std::uint32_t participant_count() const { return static_cast<std::uint32_t>(live_slots_.size()); }

 private:
  // An encoder with what it needs to take the mix: a resampler from the mix
  // rate to the codec's rate (when they differ) and the payload it writes.
  struct StreamEncoder {
    std::unique_ptr<AudioEncoder> encoder;
    std::unique_ptr<Resampler> from_mix;  // null when the codec runs at the mix rate
    std::array<std::uint8_t, kMaxEncodedFrameBytes> payload{};
    void reset();
  };

  // A participant's receive side for one codec: built once per slot and codec.
  struct ReceiveChain {
    std::unique_ptr<JitterBuffer> jitter;
    std::unique_ptr<AudioDecoder> decoder;
    std::unique_ptr<Resampler> to_mix;  // null when the codec decodes at the mix rate
  };

  struct StreamGroup {
    bool in_use = false;
    Codec codec = Codec::Pcmu;
    std::uint8_t payload_type = 0;
    std::uint32_t members = 0;
    std::uint32_t frame_index = 0;
    bool listener_joined = false;
    StreamEncoder encoder;
    std::vector<ParticipantHandle> listeners;  // capacity max_participants
    std::uint32_t listener_count = 0;
  };

  // Hot fields first: the per-tick walks over thousands of participants read
  // the first cache line (routing) and the second (this tick's frame) only.
  struct alignas(64) Participant {
    JitterBuffer* jitter = nullptr;  // chains[codec]->jitter, cached: fewer dependent loads
    ReceiveChain* chain = nullptr;   // chains[codec]
    std::uint32_t generation = 0;
    std::uint32_t live_index = 0;  // position in live_slots_
    bool in_use = false;
    Codec codec = Codec::Pcmu;
    std::uint8_t payload_type = 0;
    std::uint8_t group = 0;
    Direction direction = Direction::SendRecv;
    bool muted = false;
    bool deaf = false;
    bool on_hold = false;
    std::uint8_t level = SpeakerSelection::kSilenceDbov;  // this tick's
    bool decoded_this_tick = false;
    bool decoded_last_tick = false;
    bool has_pcm = false;  // pcm holds this tick's audio (else it is silence)
    // Which stream it received last tick, to mark a switch.
    bool received_last_tick = false;
    OutputStreamId last_stream{};
    // Mix-minus stream state.
    std::int32_t encoder_index = -1;  // into encoder_pool_[codec], -1 = none bound
    std::uint32_t mix_minus_frame_index = 0;
    // This tick's frame from the jitter buffer.
    PlayoutFrame frame{};
    // Cold.
    std::uint64_t decodes = 0;
    std::array<std::unique_ptr<ReceiveChain>, 3> chains;  // by Codec
  };

  ConferenceMixer(const ConferenceConfig& config);
  MixerStatus build();
  Participant* find(ParticipantHandle participant);
  const Participant* find(ParticipantHandle participant) const;
  ParticipantHandle handle_of(std::uint32_t slot) const { return {slot, participants_[slot].generation}; }
  bool is_mixable(const Participant& p) const;
  bool is_listener(const Participant& p) const;
  std::unique_ptr<StreamEncoder> make_stream_encoder(Codec codec) const;
  std::unique_ptr<ReceiveChain> make_receive_chain(Codec codec) const;
  std::span<std::int16_t> pcm_of(std::uint32_t slot);
  void decode(std::uint32_t slot);
  std::int32_t acquire_encoder(Codec codec);
  void release_encoder(Participant& p);
  bool encode(StreamEncoder& encoder, std::span<const std::int16_t> mix, std::span<const std::uint8_t>* payload);
  std::span<const Contributor> contributors_except(std::uint32_t excluded_slot);
  void emit_mix_minus(std::uint32_t slot, bool stream_switched);
  void emit_common(StreamGroup& group, std::uint32_t group_index, bool talk_spurt_start);
  std::uint32_t rtp_timestamp_of_this_tick(Codec codec) const;

  ConferenceConfig config_;
  std::size_t mix_samples_ = 0;
  SpeakerSelection selection_;
  std::vector<Participant> participants_;
  std::vector<std::uint32_t> live_slots_;  // dense list of slots in use
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::int16_t> pcm_;          // max_participants frames at the mix rate
  std::vector<std::int16_t> native_pcm_;   // one decoded frame before resampling
  std::vector<std::int32_t> bus_;          // the full mix, 32-bit
  std::vector<std::int16_t> mixed_pcm_;    // one saturated output frame at the mix rate
  std::vector<std::int16_t> minus_pcm_;    // one speaker's mix-minus at the mix rate
  std::vector<std::int16_t> encoder_pcm_;  // an output frame resampled for its codec
  std::array<StreamGroup, kMaxStreamGroups> groups_{};
  // Mix-minus encoders, per codec: K (SharedStreams) or one per participant.
  std::array<std::vector<std::unique_ptr<StreamEncoder>>, 3> encoder_pool_;
  std::array<std::vector<std::int32_t>, 3> free_encoders_;
  std::vector<OutputFrame> outputs_;
  std::vector<Contributor> contributor_storage_;
  std::size_t contributor_used_ = 0;
  std::vector<ParticipantHandle> single_listener_;  // one per slot, for mix-minus frames
  bool anyone_spoke_last_tick_ = false;
  MixerStats stats_{};
};

}  // namespace mrfp::mixer
