#include "mixer/speaker_selection.h"

#include <algorithm>
#include <cassert>

namespace mrfp::mixer {
namespace {
constexpr std::int32_t kSixteenths = 16;
}

SpeakerSelection::SpeakerSelection(const SpeakerSelectionConfig& config, std::uint32_t capacity)
    : config_(config), slots_(capacity) {
  const std::uint32_t seats = config.max_speakers == 0 ? capacity : std::min(config.max_speakers, capacity);
  seats_.resize(seats);
  // K > 0 keeps only the K loudest challengers: at most K seats change per tick.
  challengers_.resize(config.max_speakers == 0 ? capacity : seats);
}

void SpeakerSelection::reset(std::uint32_t slot) {
  if (slots_[slot].speaker) {
    const auto end = seats_.begin() + seat_count_;
    const auto it = std::find(seats_.begin(), end, slot);
    if (it != end) {
      std::move(it + 1, end, it);  // keep the others' seat order
      --seat_count_;
    }
  }
  slots_[slot] = SlotState{};
}

void SpeakerSelection::begin_tick() {
  ++tick_;
  challenger_count_ = 0;
  waiting_from_ = 0;
}

void SpeakerSelection::observe(std::uint32_t slot, std::uint8_t level_dbov, bool voice_activity) {
  SlotState& s = slots_[slot];
  const std::uint8_t level = std::min(level_dbov, kSilenceDbov);
  const std::int32_t loudness = (kSilenceDbov - level) * kSixteenths;
  // Peak follower; the decay covers the ticks the slot was not observed.
  const std::uint64_t elapsed = s.observed_at == 0 ? 0 : tick_ - s.observed_at;
  const std::int64_t decayed =
      static_cast<std::int64_t>(s.smoothed) - static_cast<std::int64_t>(elapsed) * config_.decay_sixteenth_db_per_tick;
  s.smoothed = std::max<std::int32_t>(loudness, static_cast<std::int32_t>(std::max<std::int64_t>(decayed, 0)));
  s.observed_at = tick_;
  s.active_now = level <= config_.activity_threshold_dbov &&
                 (voice_activity || !config_.trust_voice_activity_flag);
  if (s.active_now) s.last_active = tick_;
  if (s.active_now && !s.speaker) offer_challenger(slot);
}

void SpeakerSelection::offer_challenger(std::uint32_t slot) {
  const std::int32_t loudness = slots_[slot].smoothed;
  const auto capacity = static_cast<std::uint32_t>(challengers_.size());
  if (config_.max_speakers == 0) {
    challengers_[challenger_count_++] = slot;  // no ranking needed: all of them get in
    return;
  }
  if (capacity == 0) return;
  // Insertion into a K-entry list sorted loudest first; ties keep arrival order.
  std::uint32_t pos = challenger_count_;
  if (pos == capacity) {
    if (slots_[challengers_[capacity - 1]].smoothed >= loudness) return;
    pos = capacity - 1;
  } else {
    ++challenger_count_;
  }
  while (pos > 0 && slots_[challengers_[pos - 1]].smoothed < loudness) {
    challengers_[pos] = challengers_[pos - 1];
    --pos;
  }
  challengers_[pos] = slot;
}

bool SpeakerSelection::may_stay(const SlotState& s) const {
  return s.observed_at == tick_ && tick_ - s.last_active <= config_.hold_ticks;
}

std::optional<std::int32_t> SpeakerSelection::displacement_bar(const SlotState& s) const {
  if (!s.active_now) return s.smoothed;  // hangover yields to anyone louder
  if (tick_ - s.selected_at < config_.hold_ticks) return std::nullopt;
  return s.smoothed + static_cast<std::int32_t>(config_.hysteresis_db) * kSixteenths;
}

void SpeakerSelection::seat(std::uint32_t seat_index, std::uint32_t slot) {
  seats_[seat_index] = slot;
  slots_[slot].speaker = true;
  slots_[slot].selected_at = tick_;
}

void SpeakerSelection::end_tick() {
  // 1. Speakers that went quiet for longer than the hangover, or were not
  //    observed (muted, held, gone), give up their seats.
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < seat_count_; ++i) {
    const std::uint32_t slot = seats_[i];
    if (may_stay(slots_[slot])) {
      seats_[kept++] = slot;
    } else {
      slots_[slot].speaker = false;
    }
  }
  seat_count_ = kept;

  // 2. Free seats go to the loudest challengers.
  const auto seat_capacity = static_cast<std::uint32_t>(seats_.size());
  std::uint32_t next = 0;
  while (next < challenger_count_ && seat_count_ < seat_capacity) {
    seat(seat_count_++, challengers_[next++]);
  }

  // 3. The rest, loudest first, take the seat with the lowest bar if they
  //    beat it: a silent speaker's smoothed loudness, or a talking speaker's
  //    plus the hysteresis once its tenure is over.
  for (; next < challenger_count_; ++next) {
    const std::uint32_t challenger = challengers_[next];
    std::uint32_t weakest_seat = seat_count_;
    std::int32_t lowest_bar = 0;
    for (std::uint32_t i = 0; i < seat_count_; ++i) {
      const std::optional<std::int32_t> bar = displacement_bar(slots_[seats_[i]]);
      if (!bar) continue;
      if (weakest_seat == seat_count_ || *bar < lowest_bar) {
        weakest_seat = i;
        lowest_bar = *bar;
      }
    }
    if (weakest_seat == seat_count_) break;  // every speaker talks within its tenure
    if (slots_[challenger].smoothed <= lowest_bar) break;
    slots_[seats_[weakest_seat]].speaker = false;
    seat(weakest_seat, challenger);
  }
  waiting_from_ = next;
}

}  // namespace mrfp::mixer
