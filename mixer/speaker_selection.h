// Who is heard: the top-K loudest participants of a conference, chosen once per
// tick from their audio levels, with hysteresis and a hold time so the set of
// speakers does not flap on every syllable.
//
// Levels are RFC 6464 levels: 0..127, in -dBov (0 is full scale, 127 is
// silence). They come either from the client-to-mixer header extension
// (RFC 6464 §3), which lets the mixer rank a participant without decoding it,
// or from the decoded PCM. The selection does not care which.
//
// The rules, per tick:
//   * A participant is *active* on a tick when its level is at or above the
//     activity threshold (level <= threshold in -dBov) and, where the sender's
//     voice-activity flag (RFC 6464 §3, the V bit) is trusted, the flag is set.
//   * Each participant's loudness is smoothed by a peak follower: it jumps up to
//     a louder frame at once and decays slowly, so the gaps between words do
//     not rank a talker below a steady noise source.
//   * Hold time, as hangover: a speaker stays selected until it has been
//     inactive for more than `hold_ticks`, unless a challenger needs the seat.
//   * Hold time, as tenure: a talking speaker selected less than `hold_ticks`
//     ago cannot be displaced.
//   * Hysteresis: when all seats are taken, an active challenger displaces the
//     quietest displaceable talking speaker only if its smoothed loudness
//     exceeds that speaker's by `hysteresis_db`.
//   * A speaker silent on this tick (in its hangover) keeps its seat only
//     against challengers no louder than its smoothed loudness, which decays
//     while it is silent: a new talker as loud as the one who stopped takes
//     the seat on the first silent tick, so a change of talkers costs no
//     added latency, while a pause between words still beats quieter noise.
//     Tenure and hysteresis exist to stop two *talkers* trading a seat.
//   * A participant that is not observed on a tick (muted, on hold, removed)
//     loses its seat at once.
//
// Cost: O(N) per tick with a K-entry insertion list for challengers; no
// allocation after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mrfp::mixer {

struct SpeakerSelectionConfig {
  // K: the number of seats. 0 means no limit: every active participant speaks.
  std::uint32_t max_speakers = 3;
  // RFC 6464 level at or below which (i.e. at least this loud) a frame is
  // speech. 50 is -50 dBov, well above a quiet line's noise floor.
  std::uint8_t activity_threshold_dbov = 50;
  std::uint8_t hysteresis_db = 6;
  // Hangover and minimum tenure, in ticks.
  std::uint32_t hold_ticks = 20;
  // How fast the smoothed loudness falls, in dB per tick (1/16 dB resolution).
  std::uint32_t decay_sixteenth_db_per_tick = 16;
  // Use the sender's V bit (RFC 6464 §3) as well as the level.
  bool trust_voice_activity_flag = false;
};

class SpeakerSelection {
 public:
  static constexpr std::uint8_t kSilenceDbov = 127;

  // Allocates the per-participant state for slots [0, capacity).
  SpeakerSelection(const SpeakerSelectionConfig& config, std::uint32_t capacity);

  // Forgets everything about a slot: call when a participant joins or leaves.
  void reset(std::uint32_t slot);

  // A tick is begin_tick(), observe() for every participant that may be mixed
  // on this tick (with kSilenceDbov when it sent nothing), end_tick().
  void begin_tick();
  void observe(std::uint32_t slot, std::uint8_t level_dbov, bool voice_activity);
  void end_tick();

  // The speakers after the last end_tick(), in seat order (a displaced
  // speaker's seat goes to the one who displaced it).
  std::span<const std::uint32_t> speakers() const { return {seats_.data(), seat_count_}; }
  bool is_speaker(std::uint32_t slot) const { return slots_[slot].speaker; }
  // Active participants that asked for a seat on the last tick and did not get
  // one, loudest first; at most K of them.
  std::span<const std::uint32_t> waiting() const {
    return {challengers_.data() + waiting_from_, challenger_count_ - waiting_from_};
  }
  // True for a speaker that took its seat on the last tick.
  bool newly_selected(std::uint32_t slot) const {
    return slots_[slot].speaker && slots_[slot].selected_at == tick_;
  }
  // Smoothed loudness in 1/16 dB above silence (0 = silence, 127*16 = 0 dBov).
  std::int32_t smoothed_loudness(std::uint32_t slot) const { return slots_[slot].smoothed; }
  std::uint64_t tick() const { return tick_; }
  // Hint: this slot is observed soon (large conferences walk thousands of slots).
  void prefetch(std::uint32_t slot) const { __builtin_prefetch(&slots_[slot]); }
  const SpeakerSelectionConfig& config() const { return config_; }

 private:
  struct SlotState {
    std::int32_t smoothed = 0;
    std::uint64_t observed_at = 0;
    std::uint64_t last_active = 0;
    std::uint64_t selected_at = 0;
    bool active_now = false;
    bool speaker = false;
  };

  void offer_challenger(std::uint32_t slot);
  void seat(std::uint32_t seat_index, std::uint32_t slot);
  bool may_stay(const SlotState& s) const;
  // Loudness a challenger must exceed to take this speaker's seat; nullopt
  // while the speaker is talking within its tenure.
  std::optional<std::int32_t> displacement_bar(const SlotState& s) const;

  SpeakerSelectionConfig config_;
  std::vector<SlotState> slots_;
  std::vector<std::uint32_t> seats_;        // capacity K (or every slot when K = 0)
  std::uint32_t seat_count_ = 0;
  std::vector<std::uint32_t> challengers_;  // active non-speakers, loudest first
  std::uint32_t challenger_count_ = 0;
  std::uint32_t waiting_from_ = 0;          // challengers_[waiting_from_, count) got no seat
  std::uint64_t tick_ = 0;
};

}  // namespace mrfp::mixer
