#include "g711_concealment.h"

#include <algorithm>
#include <cstdint>

namespace mrfp::mixer {

void G711Concealer::on_good_frame(std::span<std::int16_t> pcm) {
  if (concealed_samples_ > 0) {
    // G.711 App. I §I.2.5: overlap-add the continued synthetic signal into the
    // first good samples so the return of speech does not step.
    const std::size_t merge = std::min(kMergeSamples, pcm.size());
    for (std::size_t i = 0; i < merge; ++i) {
      const std::int32_t synthetic = next_synthetic_sample();
      const std::int32_t good = pcm[i];
      const auto weight_good = static_cast<std::int32_t>(i + 1);
      const auto weight_synthetic = static_cast<std::int32_t>(merge + 1 - (i + 1));
      pcm[i] = static_cast<std::int16_t>((good * weight_good + synthetic * weight_synthetic) /
                                         static_cast<std::int32_t>(merge + 1));
    }
    concealed_samples_ = 0;
    pitch_period_ = 0;
  }
  // Slide the history and append the frame.
  if (pcm.size() >= kHistory) {
    std::copy(pcm.end() - static_cast<std::ptrdiff_t>(kHistory), pcm.end(), history_.begin());
  } else {
    std::copy(history_.begin() + static_cast<std::ptrdiff_t>(pcm.size()), history_.end(), history_.begin());
    std::copy(pcm.begin(), pcm.end(), history_.end() - static_cast<std::ptrdiff_t>(pcm.size()));
  }
  history_filled_ = std::min(kHistory, history_filled_ + pcm.size());
}

std::size_t G711Concealer::find_pitch_period() const {
  // Normalised cross-correlation between the newest window and the window one
  // lag earlier; the best lag in the 66..200 Hz voice pitch range wins.
  const std::int16_t* newest = history_.data() + (kHistory - kCorrelationWindow);
  double best_score = -1.0;
  std::size_t best_lag = kMaxPitch;
  for (std::size_t lag = kMinPitch; lag <= kMaxPitch; ++lag) {
    const std::int16_t* earlier = newest - lag;
    std::int64_t cross = 0;
    std::int64_t energy = 0;
    for (std::size_t i = 0; i < kCorrelationWindow; ++i) {
      cross += static_cast<std::int64_t>(newest[i]) * earlier[i];
      energy += static_cast<std::int64_t>(earlier[i]) * earlier[i];
    }
    if (energy == 0) continue;
    // cross * |cross| / energy: ranks like the normalised correlation, keeps its sign.
    const auto c = static_cast<double>(cross);
    const double score = c * (c < 0 ? -c : c) / static_cast<double>(energy);
    if (score > best_score) {
      best_score = score;
      best_lag = lag;
    }
  }
  return best_lag;
}

std::int16_t G711Concealer::next_synthetic_sample() {
  // Replay the last pitch period cyclically, scaled by the fade envelope.
  const std::int16_t* period = history_.data() + (kHistory - pitch_period_);
  const std::int32_t raw = period[period_position_];
  period_position_ = (period_position_ + 1) % pitch_period_;
  std::int32_t gain_q15 = 32768;
  if (concealed_samples_ >= kSilentAfter) {
    gain_q15 = 0;
  } else if (concealed_samples_ > kHoldSamples) {
    // Linear fade from full level at 10 ms to silence at 60 ms (20 % per 10 ms).
    gain_q15 = static_cast<std::int32_t>((kSilentAfter - concealed_samples_) * 32768 / (kSilentAfter - kHoldSamples));
  }
  ++concealed_samples_;
  return static_cast<std::int16_t>((raw * gain_q15) >> 15);
}

void G711Concealer::conceal(std::span<std::int16_t> pcm) {
  if (history_filled_ < kHistory) {
    // Nothing trustworthy to repeat yet: stay silent.
    std::fill(pcm.begin(), pcm.end(), std::int16_t{0});
    return;
  }
  if (concealed_samples_ == 0) {
    pitch_period_ = find_pitch_period();
    // The repeated period is the newest pitch_period_ samples, read from its
    // start: that sample followed, one period ago, what is now the last good one.
    period_position_ = 0;
  }
  for (auto& sample : pcm) sample = next_synthetic_sample();
}

void G711Concealer::reset() {
  history_.fill(0);
  history_filled_ = 0;
  pitch_period_ = 0;
  period_position_ = 0;
  concealed_samples_ = 0;
}

}  // namespace mrfp::mixer
