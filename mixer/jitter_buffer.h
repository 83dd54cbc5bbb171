// Per-participant adaptive jitter buffer. The dataplane pushes every received
// RTP packet (after SRTP); the conference tick pops exactly one frame per tick.
//
// Playout follows a timestamp cursor that advances one frame per pop():
// a packet plays when the cursor reaches its RTP timestamp. So
//  - reordered packets are put back in sequence order, duplicates dropped;
//  - a packet missing when its time comes is concealed (PlayoutKind::Conceal,
//    with the next packet's payload when it is already here, for Opus FEC);
//  - a sequence-contiguous packet whose timestamp lies ahead (sender DTX or
//    silence suppression, RFC 3551 §4.1) yields Silence until its time;
//  - a packet arriving after its frame was concealed is counted late and
//    dropped, unless nothing later has played yet: then it plays and the
//    playout delay grows by its lateness (that is how the depth adapts up);
//  - when the buffered depth stays above the target for a whole window, one
//    frame is dropped (that is how the depth adapts back down, and how a
//    sender clock running fast stays bounded);
//  - when every packet of a whole window waited more than a frame (and a
//    guard for the jitter) before its tick, one quiet frame is dropped: the
//    depth counts whole frames, and cannot tell a packet that arrives just
//    before its tick from one that waits most of a frame. This needs the
//    tick's time (pop(now_us)).
// The target depth follows the RFC 3550 §6.4.1 interarrival jitter estimate
// (1 frame + 3 J, clamped to [min_depth_frames, max_depth_frames]); it is the
// floor the shrinking never goes below. Growth is driven by packets actually
// arriving late, so the delay rises only as far as the lateness seen.
//
// Assumes one packet carries one conference frame (ptime == frame_ms).
// Storage is fixed at construction: `capacity_frames` slots of
// kMaxPayloadBytes each; nothing allocates after that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>

namespace mrfp::mixer {

// RFC 6464 §3 audio level: 0..127 meaning -0..-127 dBov; 127 is silence.
struct AudioLevel {
  std::uint8_t level = 127;
  bool voice_activity = false;  // the V flag, when the sender sets it
};

struct RtpPacketInfo {
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;               // RTP clock units
  std::span<const std::uint8_t> payload{};   // copied into a slot by push()
  std::optional<AudioLevel> audio_level{};   // RFC 6464 header extension, if present
  std::int64_t arrival_time_us = 0;          // monotonic receive time
};

struct JitterBufferConfig {
  std::uint32_t clock_rate_hz = 8000;  // RTP clock: 8000 for G.711, 48000 for Opus
  std::uint32_t frame_ms = 20;         // one tick
  std::uint32_t min_depth_frames = 1;  // never aim below this
  std::uint32_t max_depth_frames = 10; // never aim above this (delay cap)
  std::uint32_t capacity_frames = 32;  // slots; raised to 2 x max_depth_frames + 2 if below
  std::uint32_t max_conceal_frames = 5;  // after this many misses in a row: Idle
  std::uint32_t adapt_window_frames = 50;  // ticks over which the depth is judged
};

enum class PushResult : std::uint8_t {
  Accepted,
  Duplicate,    // same sequence number already buffered or already played
  Late,         // its frame already played or was concealed
  TooLarge,     // payload above kMaxPayloadBytes
  OutOfWindow,  // sequence too far from the cursor; two in a row re-sync (RFC 3550 A.1)
  Resynced,     // accepted, after a sequence/timestamp discontinuity flushed the buffer
};

enum class PlayoutKind : std::uint8_t {
  Idle,     // nothing to play: no packet yet, or the sender stopped (skip decode)
  Packet,   // decode `payload`
  Conceal,  // this frame is missing: run codec PLC, or decode_fec(payload) if set
  Silence,  // sender sent nothing for this time on purpose (DTX): Opus PLC gives
            // comfort noise, G.711 gives silence
};

struct PlayoutFrame {
  PlayoutKind kind = PlayoutKind::Idle;
  // Packet: the payload to decode. Conceal: the NEXT packet's payload when it is
  // already buffered (its in-band FEC can rebuild this frame), else empty.
  // Valid until the next push() or pop().
  std::span<const std::uint8_t> payload{};
  std::uint16_t sequence = 0;   // of the packet played (Packet only)
  std::uint32_t timestamp = 0;  // RTP timestamp of this frame
  std::optional<AudioLevel> audio_level{};  // the played packet's RFC 6464 level
};

struct JitterBufferStats {
  std::uint64_t received = 0;    // push() calls
  std::uint64_t played = 0;      // frames popped as Packet
  std::uint64_t duplicate = 0;
  std::uint64_t late = 0;        // arrived after their frame time, dropped
  std::uint64_t lost = 0;        // sequence numbers skipped by the cursor, never played
  std::uint64_t concealed = 0;   // frames popped as Conceal
  std::uint64_t fec_offered = 0; // of those, with the next payload for FEC
  std::uint64_t dropped_for_depth = 0;  // frames dropped to shrink the delay
  std::uint64_t stretched = 0;   // ticks the delay grew by playing a late packet
  std::uint64_t too_large = 0;
  std::uint64_t out_of_window = 0;
  std::uint64_t resyncs = 0;
};

inline constexpr std::size_t kMaxPayloadBytes = 1500;

class JitterBuffer {
 public:
  explicit JitterBuffer(const JitterBufferConfig& config);
  ~JitterBuffer();
  JitterBuffer(JitterBuffer&&) noexcept;
  JitterBuffer& operator=(JitterBuffer&&) noexcept;
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // Files one received packet. Never allocates, never blocks.
  PushResult push(const RtpPacketInfo& packet);

  // Hands the frame of this tick and advances the cursor by one frame.
  // `now_us`: the tick's time, on the clock of RtpPacketInfo::arrival_time_us;
  // 0 when unknown (then only the depth rule takes delay out).
  PlayoutFrame pop(std::int64_t now_us = 0);

  // Latest RFC 6464 level seen on any received packet (arrival order), even if
  // that packet is never decoded; nullopt until a packet carried one.
  std::optional<AudioLevel> latest_audio_level() const;
  std::int64_t latest_audio_level_arrival_us() const;

  // RFC 3550 §6.4.1 interarrival jitter, in RTP clock units and in ms.
  std::uint32_t jitter_rtp_units() const;
  double jitter_ms() const;
  // Depth the buffer aims at, and the depth it holds now (audio buffered ahead
  // of the cursor), in frames.
  std::uint32_t target_depth_frames() const;
  std::uint32_t current_depth_frames() const;
  std::size_t buffered_packets() const;
  // Highest sequence number received, extended with its wrap count (RFC 3550
  // §6.4.1 "extended highest sequence number received"); -1 before any packet.
  // Counts from the first packet's sequence number; a resync starts it again.
  std::int64_t extended_highest_sequence() const;

  const JitterBufferStats& stats() const;
  const JitterBufferConfig& config() const;

  // Forget every packet and the cursor (e.g. the participant's SSRC changed).
  void reset();

  // Starts loading the buffer's state: a mixer with thousands of participants
  // prefetches a burst's buffers before pushing into any of them.
  void prefetch() const {
    for (std::size_t line = 0; line < kStateBytes; line += 64) __builtin_prefetch(storage_ + line);
  }
  // Once prefetch() has brought the state in, the slot headers are the next
  // miss (they live apart from the state): the one a packet with this sequence
  // number goes to, and the ones the next pop() reads first. At 15,000
  // participants those two misses were most of push() and pop().
  void prefetch_slot(std::uint16_t sequence) const;
  void prefetch_playout() const;

 private:
  // The state lives inside the object, not behind a pointer: one dependent
  // cache miss fewer per packet and per tick, for each of thousands of
  // participants. Its layout stays private to jitter_buffer.cpp (which checks
  // that it fits).
  static constexpr std::size_t kStateBytes = 448;
  struct State;
  State& state();  // defined where State is complete
  const State& state() const;
  alignas(64) std::byte storage_[kStateBytes];
};

}  // namespace mrfp::mixer
