#include "jitter_buffer.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <vector>

namespace mrfp::mixer {
namespace {

// 32 bytes, 32-aligned: a header never straddles two cache lines, so the one
// prefetch of a slot brings all of it. (At 48 bytes with a payload pointer,
// half the headers straddled a line and push() still waited on the second
// one: a third of its time at 15,000 participants, perf annotate.)
struct alignas(32) Slot {
  // Extended sequence number this slot last held (played or not): tells a
  // duplicate of an already played packet from a late one.
  std::int64_t extended_sequence = -1;
  std::int64_t arrival_us = 0;  // RtpPacketInfo::arrival_time_us
  std::uint32_t timestamp = 0;
  std::uint16_t size = 0;
  std::optional<AudioLevel> audio_level{};
  bool occupied = false;
  // The payload bytes live apart from the headers (State::payload_of), so
  // walking the slots touches a few cache lines, not one 1.5 kB slot each:
  // with 10,000 participants the tick pops 10,000 buffers.
};
static_assert(sizeof(Slot) == 32);

constexpr std::size_t kCacheLine = 64;
constexpr std::size_t kSlotStride = (kMaxPayloadBytes + kCacheLine - 1) / kCacheLine * kCacheLine;

// Only the speakers' payloads are read again (the others are ranked by their
// RFC 6464 level and never decoded), and with thousands of participants the slot
// is not in the cache: a plain copy would first read every line it writes.
// Non-temporal stores go to memory without that read, 32 bytes at a time,
// the last chunk padded (the slot has room: kSlotStride is a multiple of 32).
// Never an ordinary store into a line being written non-temporally: that
// stalls until the line is flushed. A 60-100 byte Opus payload whose tail was
// copied with memcpy made the whole receive path 1.6-1.9x slower at 10,000
// participants (dpdk_rx_bench). `destination` starts on a cache line.
void store_streaming(std::uint8_t* destination, std::span<const std::uint8_t> source) {
#if defined(__AVX2__)
  std::size_t at = 0;
  for (; at + 32 <= source.size(); at += 32) {
    const __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(source.data() + at));
    _mm256_stream_si256(reinterpret_cast<__m256i*>(destination + at), chunk);
  }
  if (at < source.size()) {
    alignas(32) std::uint8_t tail[32] = {};
    std::memcpy(tail, source.data() + at, source.size() - at);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(destination + at),
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(tail)));
  }
#else
  std::memcpy(destination, source.data(), source.size());
#endif
}

// Extended sequence numbers start one wrap cycle up, so that a packet from
// just before the first one (sequence reordered across 65535 -> 0) still maps
// to a positive number.
constexpr std::int64_t kFirstCycle = std::int64_t{1} << 16;

// Margin a frame-less delay must still leave every packet, beyond 3 J: for
// what one window of packets did not show.
constexpr std::int64_t kSlackGuardFloorUs = 1000;

// RFC 6464 §3 levels at or below -50 dBov are background noise, not speech:
// dropping such a frame to take out delay is not heard.
constexpr std::uint8_t kQuietLevel = 50;

// Serial-number difference of two RTP timestamps (RFC 3550 §5.1: they wrap).
std::int32_t timestamp_difference(std::uint32_t later, std::uint32_t earlier) {
  return static_cast<std::int32_t>(later - earlier);
}

}  // namespace

struct JitterBuffer::State {
  explicit State(const JitterBufferConfig& buffer_config)
      : config(sanitized(buffer_config)),
        frame_ts(config.clock_rate_hz * config.frame_ms / 1000),
        slots(config.capacity_frames),
        // A power-of-two count (the default 32) maps sequence numbers with a
        // mask rather than a 64-bit division, on every push and pop.
        slot_mask(std::has_single_bit(slots.size()) ? slots.size() - 1 : 0),
        payload_storage(std::size_t{config.capacity_frames} * kSlotStride + kCacheLine) {
    // Payloads start on cache lines, so they can be stored a line at a time.
    const auto base = reinterpret_cast<std::uintptr_t>(payload_storage.data());
    payload_base = payload_storage.data() + ((kCacheLine - base % kCacheLine) % kCacheLine);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  // Moving keeps payload_base valid: a moved vector keeps its buffer.
  State(State&&) noexcept = default;
  State& operator=(State&&) noexcept = default;

  static JitterBufferConfig sanitized(JitterBufferConfig c) {
    c.clock_rate_hz = std::max<std::uint32_t>(c.clock_rate_hz, 1000);
    c.frame_ms = std::max<std::uint32_t>(c.frame_ms, 1);
    c.min_depth_frames = std::max<std::uint32_t>(c.min_depth_frames, 1);
    c.max_depth_frames = std::max(c.max_depth_frames, c.min_depth_frames);
    // Room for the deepest target plus as much again of reordering.
    c.capacity_frames = std::max(c.capacity_frames, 2 * c.max_depth_frames + 2);
    c.adapt_window_frames = std::max<std::uint32_t>(c.adapt_window_frames, 1);
    return c;
  }

  JitterBufferConfig config;
  std::uint32_t frame_ts;  // one frame in RTP clock units
  std::vector<Slot> slots;       // sized once, here; never resized
  std::size_t slot_mask;         // slots.size() - 1 when a power of two, else 0
  std::vector<std::uint8_t> payload_storage;
  std::uint8_t* payload_base = nullptr;  // slot i's payload at i * kSlotStride; on a cache line
  JitterBufferStats stats{};

  // The cursor: the next sequence number not yet played or skipped, and the
  // RTP timestamp of the frame the next pop() hands out.
  bool started = false;
  std::int64_t next_sequence = 0;
  std::uint32_t next_timestamp = 0;
  std::int64_t highest_sequence = -1;  // highest extended sequence number received
  std::uint32_t highest_timestamp = 0;
  std::size_t buffered = 0;
  std::uint32_t misses_in_a_row = 0;
  bool popped_since_start = false;  // a frame (of any kind) was handed out since the (re)start

  // RFC 3550 A.1 probation for a sequence number far out of the window: the
  // next one right after it confirms a restart of the stream.
  bool probation_armed = false;
  std::uint16_t probation_sequence = 0;

  // RFC 3550 §6.4.1 / A.8 jitter estimator, kept scaled by 16 (integer).
  bool have_transit = false;
  std::uint32_t last_transit = 0;
  std::uint32_t jitter_q4 = 0;

  // Depth adaptation: the smallest depth seen over the current window.
  std::int64_t window_min_depth = std::numeric_limits<std::int64_t>::max();
  std::uint32_t window_ticks = 0;
  bool shrink_pending = false;
  // ... and the least time a packet that played waited for its tick, which the
  // depth alone does not show: it counts whole frames, not when in the frame
  // the packets arrive.
  std::int64_t window_min_wait_us = std::numeric_limits<std::int64_t>::max();
  std::uint32_t window_played_timed = 0;
  bool slack_shrink_pending = false;  // waits for a quiet frame to drop

  std::optional<AudioLevel> latest_level{};
  std::int64_t latest_level_arrival_us = 0;

  std::size_t slot_index(std::int64_t extended_sequence) const {
    if (slot_mask != 0) return static_cast<std::size_t>(extended_sequence) & slot_mask;
    return static_cast<std::size_t>(extended_sequence % static_cast<std::int64_t>(slots.size()));
  }
  std::uint8_t* payload_of(const Slot& slot) const {
    return payload_base + static_cast<std::size_t>(&slot - slots.data()) * kSlotStride;
  }
  std::span<const std::uint8_t> payload_span(const Slot& slot) const { return {payload_of(slot), slot.size}; }
  Slot& slot_for(std::int64_t extended_sequence) { return slots[slot_index(extended_sequence)]; }
  const Slot& slot_for(std::int64_t extended_sequence) const { return slots[slot_index(extended_sequence)]; }

  std::uint32_t target_frames() const {
    // Cover about three mean deviations of the transit time beyond the one
    // frame every packet needs; E|D| of RFC 3550's estimator is about 1.13
    // standard deviations, so this holds ~3.4 sigma of jitter.
    const std::uint32_t jitter = jitter_q4 >> 4;
    const std::uint32_t covering = (3 * jitter + frame_ts - 1) / frame_ts;
    return std::clamp(1 + covering, config.min_depth_frames, config.max_depth_frames);
  }

  // Audio buffered at or ahead of the cursor, in RTP units.
  std::int64_t depth_ts() const {
    if (buffered == 0 || highest_sequence < next_sequence) return 0;
    const std::int64_t ahead = timestamp_difference(highest_timestamp, next_timestamp) + std::int64_t{frame_ts};
    return std::max<std::int64_t>(ahead, 0);
  }

  std::int64_t extend(std::uint16_t sequence) const {
    const std::int64_t reference = highest_sequence >= 0 ? highest_sequence : next_sequence;
    const auto delta = static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - static_cast<std::uint16_t>(reference)));
    return reference + delta;
  }

  void flush() {
    for (Slot& slot : slots) {
      slot.occupied = false;
      slot.extended_sequence = -1;
    }
    buffered = 0;
    started = false;
    highest_sequence = -1;
    misses_in_a_row = 0;
    popped_since_start = false;
    shrink_pending = false;
    slack_shrink_pending = false;
    window_min_depth = std::numeric_limits<std::int64_t>::max();
    window_ticks = 0;
    window_min_wait_us = std::numeric_limits<std::int64_t>::max();
    window_played_timed = 0;
    have_transit = false;
  }

  void update_jitter(const RtpPacketInfo& packet) {
    // RFC 3550 §6.4.1: transit = arrival (in RTP units) - RTP timestamp;
    // J += (|D| - J) / 16 with D the change of transit between packets.
    const auto arrival_rtp = static_cast<std::uint32_t>(
        packet.arrival_time_us * static_cast<std::int64_t>(config.clock_rate_hz) / 1000000);
    const std::uint32_t transit = arrival_rtp - packet.timestamp;
    if (have_transit) {
      const std::int32_t change = static_cast<std::int32_t>(transit - last_transit);
      const std::uint32_t magnitude = change < 0 ? static_cast<std::uint32_t>(-static_cast<std::int64_t>(change))
                                                 : static_cast<std::uint32_t>(change);
      // A.8's integer form: jitter_q4 holds J * 16.
      const auto updated = static_cast<std::int64_t>(jitter_q4) + magnitude - ((jitter_q4 + 8) >> 4);
      jitter_q4 = static_cast<std::uint32_t>(std::clamp<std::int64_t>(updated, 0, std::numeric_limits<std::int32_t>::max()));
    }
    last_transit = transit;
    have_transit = true;
  }

  void store(std::int64_t extended_sequence, const RtpPacketInfo& packet) {
    Slot& slot = slot_for(extended_sequence);
    slot.occupied = true;
    slot.extended_sequence = extended_sequence;
    slot.timestamp = packet.timestamp;
    slot.size = static_cast<std::uint16_t>(packet.payload.size());
    slot.audio_level = packet.audio_level;
    slot.arrival_us = packet.arrival_time_us;
    store_streaming(payload_of(slot), packet.payload);
    ++buffered;
    if (extended_sequence > highest_sequence) {
      highest_sequence = extended_sequence;
      highest_timestamp = packet.timestamp;
    }
  }

  void start_at(std::int64_t extended_sequence, std::uint32_t timestamp) {
    // Hold target-1 frames of silence first so the first packet has company.
    started = true;
    next_sequence = extended_sequence;
    next_timestamp = timestamp - (target_frames() - 1) * frame_ts;
  }

  PushResult push(const RtpPacketInfo& packet) {
    ++stats.received;
    if (packet.audio_level) {
      latest_level = packet.audio_level;
      latest_level_arrival_us = packet.arrival_time_us;
    }
    if (packet.payload.size() > kMaxPayloadBytes) {
      ++stats.too_large;
      return PushResult::TooLarge;
    }
    if (!started) {
      store(kFirstCycle + packet.sequence, packet);
      start_at(kFirstCycle + packet.sequence, packet.timestamp);
      update_jitter(packet);
      return PushResult::Accepted;
    }
    const std::int64_t extended_sequence = extend(packet.sequence);
    const auto capacity = static_cast<std::int64_t>(slots.size());
    const bool too_far_ahead = extended_sequence >= next_sequence + capacity;
    const bool too_far_behind = extended_sequence < next_sequence - capacity;
    if (too_far_ahead || too_far_behind) {
      // RFC 3550 A.1: one packet far away is noise; two in sequence mean the
      // source restarted (or we fell a whole buffer behind): start over there.
      if (probation_armed && packet.sequence == probation_sequence) {
        probation_armed = false;
        flush();
        ++stats.resyncs;
        store(kFirstCycle + packet.sequence, packet);
        start_at(kFirstCycle + packet.sequence, packet.timestamp);
        update_jitter(packet);
        return PushResult::Resynced;
      }
      probation_armed = true;
      probation_sequence = static_cast<std::uint16_t>(packet.sequence + 1);
      ++stats.out_of_window;
      return PushResult::OutOfWindow;
    }
    probation_armed = false;
    Slot& slot = slot_for(extended_sequence);
    if (slot.extended_sequence == extended_sequence) {
      ++stats.duplicate;
      return PushResult::Duplicate;
    }
    if (extended_sequence < next_sequence) {
      if (!popped_since_start) {
        // Reordered ahead of the first packet, before anything played: move
        // the start back to it instead of calling it late.
        store(extended_sequence, packet);
        next_sequence = extended_sequence;
        const std::uint32_t start = packet.timestamp - (target_frames() - 1) * frame_ts;
        if (timestamp_difference(start, next_timestamp) < 0) next_timestamp = start;
        update_jitter(packet);
        return PushResult::Accepted;
      }
      ++stats.late;
      return PushResult::Late;
    }
    if (slot.occupied) {
      // The slot still holds a packet a whole capacity older than this one,
      // which the cursor has skipped past; it can never play.
      slot.occupied = false;
      --buffered;
    }
    store(extended_sequence, packet);
    update_jitter(packet);
    return PushResult::Accepted;
  }

  // The first buffered packet at or after the cursor, or nullptr.
  Slot* first_buffered() {
    if (buffered == 0) return nullptr;
    for (std::int64_t s = next_sequence; s <= highest_sequence; ++s) {
      Slot& slot = slot_for(s);
      if (slot.occupied && slot.extended_sequence == s) return &slot;
    }
    return nullptr;
  }

  void release(Slot& slot) {
    slot.occupied = false;
    --buffered;
  }

  // Every packet of the window just ended waited a frame and a guard before
  // its tick, so with one frame less each would still have been in time. The
  // guard: three mean deviations of the jitter (as target_frames() covers)
  // and kSlackGuardFloorUs.
  bool window_had_a_frame_of_slack() const {
    if (window_played_timed < config.adapt_window_frames / 2) return false;  // too few packets to judge
    const std::int64_t jitter_us = std::int64_t{jitter_q4 >> 4} * 1'000'000 / config.clock_rate_hz;
    return window_min_wait_us >= std::int64_t{config.frame_ms} * 1000 + kSlackGuardFloorUs + 3 * jitter_us;
  }

  void judge_depth() {
    // Shrink when, over a whole window, the buffer never fell below target +
    // one frame: that frame is pure delay. The more excess, the sooner (a
    // window of W ticks allows one drop per W / excess ticks).
    const std::int64_t depth = depth_ts();
    window_min_depth = std::min(window_min_depth, depth);
    ++window_ticks;
    // Shrink as well after a window with a frame of slack. The depth rule
    // below cannot see it: a packet that arrives early in the tick's period
    // waits most of a frame, yet counts as one frame of depth.
    const bool above_the_floor = depth >= std::int64_t{config.min_depth_frames + 1} * frame_ts;
    if (window_ticks >= config.adapt_window_frames && above_the_floor && window_had_a_frame_of_slack()) {
      slack_shrink_pending = true;
    }
    const std::int64_t excess = window_min_depth - static_cast<std::int64_t>(target_frames()) * frame_ts;
    const std::int64_t excess_frames = excess / static_cast<std::int64_t>(frame_ts);
    if (excess_frames >= 1 &&
        static_cast<std::int64_t>(window_ticks) * excess_frames >= static_cast<std::int64_t>(config.adapt_window_frames)) {
      shrink_pending = true;
    }
    if (shrink_pending || window_ticks >= config.adapt_window_frames) {
      window_min_depth = std::numeric_limits<std::int64_t>::max();
      window_ticks = 0;
      window_min_wait_us = std::numeric_limits<std::int64_t>::max();
      window_played_timed = 0;
    }
  }

  PlayoutFrame conceal_or_idle(std::span<const std::uint8_t> fec_payload) {
    PlayoutFrame frame;
    frame.timestamp = next_timestamp;
    next_timestamp += frame_ts;
    if (++misses_in_a_row > config.max_conceal_frames) {
      // The sender went quiet (hold, DTX without updates, gone): stop concealing.
      frame.kind = PlayoutKind::Idle;
      return frame;
    }
    frame.kind = PlayoutKind::Conceal;
    frame.payload = fec_payload;
    ++stats.concealed;
    if (!fec_payload.empty()) ++stats.fec_offered;
    return frame;
  }

  // How far the packet's frame lies ahead of the cursor (RTP units, negative
  // when overdue). A packet further ahead than any delay we would hold means
  // the sender's timestamps jumped (RFC 3550 §5.1 allows it after a pause):
  // re-anchor the cursor to it.
  std::int32_t ahead_of_cursor(const Slot& head) {
    const auto longest_gap = static_cast<std::int32_t>((config.max_depth_frames + 2) * frame_ts);
    if (timestamp_difference(head.timestamp, next_timestamp) > longest_gap) {
      next_timestamp = head.timestamp - (target_frames() - 1) * frame_ts;
    }
    return timestamp_difference(head.timestamp, next_timestamp);
  }

  // The next packet is in sequence but its time has not come: the sender
  // paused on purpose (DTX, silence suppression). Shrinking the delay here
  // costs no audio.
  PlayoutFrame pause_frame(std::int32_t ahead) {
    PlayoutFrame frame;
    frame.kind = misses_in_a_row > config.max_conceal_frames ? PlayoutKind::Idle : PlayoutKind::Silence;
    frame.timestamp = next_timestamp;
    next_timestamp += frame_ts;
    if ((shrink_pending || slack_shrink_pending) && ahead >= 2 * static_cast<std::int32_t>(frame_ts)) {
      next_timestamp += frame_ts;
      shrink_pending = slack_shrink_pending = false;
      ++stats.dropped_for_depth;
    }
    return frame;
  }

  // Packets before `head` are missing and due now: conceal. When `head` is the
  // one right after the missing frame, offer it for in-band FEC.
  PlayoutFrame missing_frame(const Slot& head, std::int32_t ahead) {
    const bool right_after = head.extended_sequence == next_sequence + 1 && ahead == static_cast<std::int32_t>(frame_ts);
    return conceal_or_idle(right_after ? payload_span(head) : std::span<const std::uint8_t>{});
  }

  // Drops the due frame `head` to take one frame of delay out, if the frame
  // after it is here to play instead.
  bool drop_for_depth(Slot& head) {
    const Slot& after = slot_for(head.extended_sequence + 1);
    if (!after.occupied || after.extended_sequence != head.extended_sequence + 1) return false;
    shrink_pending = slack_shrink_pending = false;
    ++stats.dropped_for_depth;
    next_sequence = head.extended_sequence + 1;
    next_timestamp = head.timestamp + frame_ts;
    release(head);
    return true;
  }

  static bool quiet(const Slot& slot) {
    return !slot.audio_level || (!slot.audio_level->voice_activity && slot.audio_level->level >= kQuietLevel);
  }

  PlayoutFrame play(Slot& head, std::int32_t ahead, std::int64_t now_us) {
    stats.lost += static_cast<std::uint64_t>(head.extended_sequence - next_sequence);
    if (ahead < 0) {
      // Overdue (concealed in its place): playing it delays all that follows
      // by its lateness; that is how the delay grows.
      const auto frame_duration = static_cast<std::int32_t>(frame_ts);
      stats.stretched += static_cast<std::uint64_t>((-ahead + frame_duration - 1) / frame_duration);
      slack_shrink_pending = false;
    }
    if (now_us > 0 && head.arrival_us > 0) {
      window_min_wait_us = std::min(window_min_wait_us, now_us - head.arrival_us);
      ++window_played_timed;
    }
    PlayoutFrame frame;
    frame.kind = PlayoutKind::Packet;
    frame.payload = payload_span(head);
    frame.sequence = static_cast<std::uint16_t>(head.extended_sequence);
    frame.timestamp = head.timestamp;
    frame.audio_level = head.audio_level;
    next_sequence = head.extended_sequence + 1;
    next_timestamp = head.timestamp + frame_ts;
    misses_in_a_row = 0;
    release(head);
    ++stats.played;
    return frame;
  }

  PlayoutFrame pop(std::int64_t now_us) {
    if (!started) return {};
    popped_since_start = true;
    judge_depth();
    while (true) {
      Slot* head = first_buffered();
      if (head == nullptr) return conceal_or_idle({});  // underrun: time goes on
      const std::int32_t ahead = ahead_of_cursor(*head);
      if (ahead >= static_cast<std::int32_t>(frame_ts)) {
        return head->extended_sequence == next_sequence ? pause_frame(ahead) : missing_frame(*head, ahead);
      }
      const bool drop = shrink_pending || (slack_shrink_pending && quiet(*head));
      if (drop && ahead >= 0 && drop_for_depth(*head)) continue;
      return play(*head, ahead, now_us);
    }
  }
};

JitterBuffer::State& JitterBuffer::state() { return *std::launder(reinterpret_cast<State*>(storage_)); }
const JitterBuffer::State& JitterBuffer::state() const {
  return *std::launder(reinterpret_cast<const State*>(storage_));
}

JitterBuffer::JitterBuffer(const JitterBufferConfig& config) {
  static_assert(sizeof(State) <= kStateBytes, "raise kStateBytes");
  static_assert(alignof(State) <= 64);  // storage_ is aligned to a cache line
  new (storage_) State(config);
}
JitterBuffer::~JitterBuffer() { state().~State(); }
JitterBuffer::JitterBuffer(JitterBuffer&& other) noexcept { new (storage_) State(std::move(other.state())); }
JitterBuffer& JitterBuffer::operator=(JitterBuffer&& other) noexcept {
  state() = std::move(other.state());
  return *this;
}

void JitterBuffer::prefetch_slot(std::uint16_t sequence) const {
  const State& s = state();
  if (s.highest_sequence < 0) return;
  // The extension push() will find for it, near the highest seen (a guess is
  // enough: a wrong one costs a wasted prefetch, nothing else).
  const auto offset = static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(s.highest_sequence));
  const std::int64_t extended = s.highest_sequence + offset;
  if (extended >= 0) __builtin_prefetch(&s.slot_for(extended));
}

void JitterBuffer::prefetch_playout() const {
  const State& s = state();
  if (!s.started) return;
  // The head is at the cursor, or just after it; two headers may straddle a line.
  __builtin_prefetch(&s.slot_for(s.next_sequence));
  __builtin_prefetch(&s.slot_for(s.next_sequence + 1));
}

PushResult JitterBuffer::push(const RtpPacketInfo& packet) { return state().push(packet); }
PlayoutFrame JitterBuffer::pop(std::int64_t now_us) { return state().pop(now_us); }

std::optional<AudioLevel> JitterBuffer::latest_audio_level() const { return state().latest_level; }
std::int64_t JitterBuffer::latest_audio_level_arrival_us() const { return state().latest_level_arrival_us; }

std::uint32_t JitterBuffer::jitter_rtp_units() const { return state().jitter_q4 >> 4; }
double JitterBuffer::jitter_ms() const {
  return static_cast<double>(state().jitter_q4) / 16.0 * 1000.0 / static_cast<double>(state().config.clock_rate_hz);
}
std::uint32_t JitterBuffer::target_depth_frames() const { return state().target_frames(); }
std::uint32_t JitterBuffer::current_depth_frames() const {
  return static_cast<std::uint32_t>(state().depth_ts() / state().frame_ts);
}
std::size_t JitterBuffer::buffered_packets() const { return state().buffered; }
std::int64_t JitterBuffer::extended_highest_sequence() const {
  return state().highest_sequence < 0 ? -1 : state().highest_sequence - kFirstCycle;
}
const JitterBufferStats& JitterBuffer::stats() const { return state().stats; }
const JitterBufferConfig& JitterBuffer::config() const { return state().config; }

void JitterBuffer::reset() {
  state().flush();
  state().probation_armed = false;
  state().jitter_q4 = 0;
  state().latest_level.reset();
  state().latest_level_arrival_us = 0;
}

}  // namespace mrfp::mixer
