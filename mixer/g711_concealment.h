// Packet loss concealment for G.711, after ITU-T G.711 Appendix I in short:
// repeat the last pitch period of the good signal, hold it for 10 ms, then fade
// it linearly to silence at 60 ms; when audio returns, cross-fade from the
// synthetic signal into the first good frame so the seam does not click.
// Works on 8 kHz PCM, frames of up to 60 ms. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mrfp::mixer {

class G711Concealer {
 public:
  static constexpr std::uint32_t kRateHz = 8000;
  static constexpr std::size_t kMaxFrameSamples = 480;  // 60 ms

  // Call with every good decoded frame, in order. Smooths the frame in place
  // when it follows concealed frames, then records it as history.
  void on_good_frame(std::span<std::int16_t> pcm);

  // Writes one concealed frame (pcm.size() samples, at most kMaxFrameSamples).
  void conceal(std::span<std::int16_t> pcm);

  // Pitch period in samples picked for the current loss burst (0 when none yet).
  std::size_t pitch_period() const { return pitch_period_; }

  void reset();

 private:
  static constexpr std::size_t kMinPitch = 40;    // 200 Hz
  static constexpr std::size_t kMaxPitch = 120;   // 66.7 Hz
  static constexpr std::size_t kCorrelationWindow = 160;  // 20 ms compared per lag
  static constexpr std::size_t kHistory = kMaxPitch + kCorrelationWindow;
  static constexpr std::size_t kHoldSamples = 80;    // 10 ms at full level
  static constexpr std::size_t kSilentAfter = 480;   // silent from 60 ms on
  static constexpr std::size_t kMergeSamples = 32;   // 4 ms cross-fade back into good audio

  std::size_t find_pitch_period() const;
  std::int16_t next_synthetic_sample();

  std::array<std::int16_t, kHistory> history_{};  // newest sample last
  std::size_t history_filled_ = 0;
  std::size_t pitch_period_ = 0;
  std::size_t period_position_ = 0;   // read position within the repeated period
  std::size_t concealed_samples_ = 0; // since the loss burst began
};

}  // namespace mrfp::mixer
