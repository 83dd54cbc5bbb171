// Sample-rate conversion between the participants' codec rates and the
// conference's mix rate (8, 16 or 48 kHz), on speexdsp's resampler. One
// Resampler per direction per participant: it keeps filter history between
// frames. A participant already at the mix rate needs none (a G.711-only
// conference at 8 kHz resamples nothing); if built anyway, it copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace mrfp::mixer {

enum class ResamplerStatus : std::uint8_t {
  Ok,
  UnsupportedRate,  // rates must be 8000, 12000, 16000, 24000 or 48000
  BufferTooSmall,   // output span shorter than the converted frame
  ResamplerError,   // speexdsp refused
};

struct ResampleResult {
  ResamplerStatus status = ResamplerStatus::Ok;
  std::size_t input_used = 0;      // input samples consumed (all of them when Ok)
  std::size_t output_written = 0;  // output samples produced
};

// speexdsp quality 0..10; 3 is its "VoIP" setting, 5 its default. The mixer
// uses 5: stopband attenuation keeps a 48 kHz talker's 4..24 kHz content out
// of an 8 kHz mix.
inline constexpr int kDefaultResamplerQuality = 5;

class Resampler {
 public:
  // Builds a mono converter; the only allocation. nullptr (and *status set)
  // on an unsupported rate.
  static std::unique_ptr<Resampler> create(std::uint32_t input_rate_hz, std::uint32_t output_rate_hz,
                                           int quality = kDefaultResamplerQuality,
                                           ResamplerStatus* status = nullptr);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  std::uint32_t input_rate_hz() const { return input_rate_hz_; }
  std::uint32_t output_rate_hz() const { return output_rate_hz_; }
  bool is_passthrough() const { return input_rate_hz_ == output_rate_hz_; }

  // Output samples one input block yields (e.g. 160 at 8 kHz -> 960 at 48 kHz).
  std::size_t output_samples_for(std::size_t input_samples) const;

  // Converts one frame. With whole frames of the supported rates every call
  // consumes all input and writes exactly output_samples_for(input.size())
  // samples; the filter's delay (latency_output_samples()) shows as leading
  // silence in the first frame, never as a short frame.
  ResampleResult process(std::span<const std::int16_t> input, std::span<std::int16_t> output);

  // Filter delay, in output samples.
  std::size_t latency_output_samples() const;

  // Clears filter history (a new stream).
  void reset();

 private:
  Resampler(std::uint32_t input_rate_hz, std::uint32_t output_rate_hz, void* state);
  std::uint32_t input_rate_hz_;
  std::uint32_t output_rate_hz_;
  void* state_;  // SpeexResamplerState*, kept out of this header
};

}  // namespace mrfp::mixer
