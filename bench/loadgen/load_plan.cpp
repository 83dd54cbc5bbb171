#include "bench/loadgen/load_plan.h"

#include <algorithm>
#include <cmath>

namespace mrfp::loadgen {

namespace {
constexpr double kLowestToneHz = 300;
// Below 8 kHz G.711's 4 kHz Nyquist with room for the codec's roll-off.
constexpr double kToneBandHz = 3000;
constexpr double kWidestSpacingHz = 150;
// More tones than this would sit closer than 150 Hz: Goertzel over a talk-spurt
// could no longer tell neighbours apart. Larger conferences reuse them.
constexpr std::uint32_t kMaxTones = 20;
}  // namespace

LoadPlan::LoadPlan(const LoadOptions& options)
    : options_(options),
      size_(std::max<std::uint32_t>(1, options.participants_per_conference)),
      frames_(static_cast<std::uint32_t>(std::lround(options.duration_s * 1000 / options.frame_ms))),
      warmup_frames_(static_cast<std::uint32_t>(std::lround(options.warmup_s * 1000 / options.frame_ms))),
      frames_per_spurt_(std::max<std::uint32_t>(
          1, static_cast<std::uint32_t>(std::lround(options.spurt_s * 1000 / options.frame_ms)))),
      tone_count_(std::min<std::uint32_t>(size_, kMaxTones)),
      tone_spacing_hz_(std::min(kWidestSpacingHz, kToneBandHz / tone_count_)),
      sampled_(participant_count(), 0) {
  const std::uint32_t total = participant_count();
  const std::uint32_t wanted = std::min(options.sample_listeners, total);
  if (wanted == 0) return;
  // Every step-th participant. When a step spans whole conferences, member
  // i % size of each, so that talkers and silent listeners are both checked;
  // within large conferences the step itself spreads the members (its late
  // joiners and the end of the mixer's fan-out as well as its first talkers).
  const double step = static_cast<double>(total) / wanted;
  for (std::uint32_t i = 0; i < wanted; ++i) {
    const auto index = static_cast<std::uint32_t>(i * step);
    const std::uint32_t conference = index / size_;
    const std::uint32_t member = step >= size_ ? i % size_ : index % size_;
    sampled_[std::min(total - 1, conference * size_ + member)] = 1;
  }
}

std::uint32_t LoadPlan::samples_per_frame() const {
  return mixer::native_pcm_rate(options_.codec) * options_.frame_ms / 1000;
}
std::uint32_t LoadPlan::rtp_ticks_per_frame() const {
  return mixer::rtp_clock_rate(options_.codec) * options_.frame_ms / 1000;
}

std::uint32_t LoadPlan::windows() const {
  if (frames_ <= warmup_frames_) return 0;
  return (frames_ - warmup_frames_ + frames_per_spurt_ - 1) / frames_per_spurt_;
}

double LoadPlan::tone_hz(std::uint32_t member) const { return kLowestToneHz + tone_of(member) * tone_spacing_hz_; }

bool LoadPlan::ever_talks(std::uint32_t member) const {
  for (std::uint32_t w = 0; w < windows(); ++w) {
    if (talks_in_window(member, w)) return true;
  }
  return false;
}

std::uint32_t LoadPlan::first_frame(std::uint32_t participant) const {
  if (options_.join_at_once || warmup_frames_ == 0) return 0;
  // splitmix64 of (seed, participant): independent of every other random choice.
  std::uint64_t z = options_.seed * 0x9E3779B97F4A7C15ull + participant + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z % warmup_frames_);
}

void LoadPlan::talkers_in_window(std::uint32_t window, std::vector<std::uint32_t>& members) const {
  members.clear();
  if (options_.all_talk) {
    for (std::uint32_t m = 0; m < size_; ++m) members.push_back(m);
    return;
  }
  const std::uint32_t talkers = std::min(options_.talkers, size_);
  const std::uint32_t first = static_cast<std::uint32_t>((std::uint64_t{window} * talkers) % size_);
  for (std::uint32_t j = 0; j < talkers; ++j) members.push_back((first + j) % size_);
}

bool LoadPlan::talks_in_window(std::uint32_t member, std::uint32_t window) const {
  if (options_.all_talk) return true;
  const std::uint32_t talkers = std::min(options_.talkers, size_);
  // Talkers rotate: window w lets members w*K .. w*K+K-1 (mod size) speak.
  const std::uint32_t first = static_cast<std::uint32_t>((std::uint64_t{window} * talkers) % size_);
  const std::uint32_t offset = (member + size_ - first) % size_;
  return offset < talkers;
}

bool LoadPlan::talking(std::uint32_t member, std::uint32_t frame) const {
  if (frame < warmup_frames_) return false;
  return talks_in_window(member, (frame - warmup_frames_) / frames_per_spurt_);
}

bool LoadPlan::audible_to(std::uint32_t member, std::uint32_t listener_member, std::uint32_t window) const {
  if (member == listener_member || !talks_in_window(member, window)) return false;
  const std::uint32_t talkers = options_.all_talk ? size_ : std::min(options_.talkers, size_);
  return options_.speakers == 0 || talkers <= options_.speakers;
}

}  // namespace mrfp::loadgen
