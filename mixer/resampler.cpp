#include "resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>

namespace mrfp::mixer {
namespace {

bool is_supported_rate(std::uint32_t rate_hz) {
  switch (rate_hz) {
    case 8000: case 12000: case 16000: case 24000: case 48000: return true;
    default: return false;
  }
}

SpeexResamplerState* speex(void* state) { return static_cast<SpeexResamplerState*>(state); }

}  // namespace

std::unique_ptr<Resampler> Resampler::create(std::uint32_t input_rate_hz, std::uint32_t output_rate_hz, int quality,
                                             ResamplerStatus* status) {
  auto fail = [status](ResamplerStatus why) -> std::unique_ptr<Resampler> {
    if (status != nullptr) *status = why;
    return nullptr;
  };
  if (!is_supported_rate(input_rate_hz) || !is_supported_rate(output_rate_hz)) {
    return fail(ResamplerStatus::UnsupportedRate);
  }
  if (quality < SPEEX_RESAMPLER_QUALITY_MIN || quality > SPEEX_RESAMPLER_QUALITY_MAX) {
    return fail(ResamplerStatus::ResamplerError);
  }
  void* state = nullptr;
  if (input_rate_hz != output_rate_hz) {
    int error = RESAMPLER_ERR_SUCCESS;
    state = speex_resampler_init(1, input_rate_hz, output_rate_hz, quality, &error);
    if (state == nullptr || error != RESAMPLER_ERR_SUCCESS) {
      if (state != nullptr) speex_resampler_destroy(speex(state));
      return fail(ResamplerStatus::ResamplerError);
    }
    // No speex_resampler_skip_zeros(): it would trim the filter delay off the
    // first frame and make it short. We keep whole frames; the delay shows as
    // leading silence (latency_output_samples()).
  }
  if (status != nullptr) *status = ResamplerStatus::Ok;
  return std::unique_ptr<Resampler>(new Resampler(input_rate_hz, output_rate_hz, state));
}

Resampler::Resampler(std::uint32_t input_rate_hz, std::uint32_t output_rate_hz, void* state)
    : input_rate_hz_(input_rate_hz), output_rate_hz_(output_rate_hz), state_(state) {}

Resampler::~Resampler() {
  if (state_ != nullptr) speex_resampler_destroy(speex(state_));
}

std::size_t Resampler::output_samples_for(std::size_t input_samples) const {
  return input_samples * output_rate_hz_ / input_rate_hz_;
}

ResampleResult Resampler::process(std::span<const std::int16_t> input, std::span<std::int16_t> output) {
  const std::size_t expected = output_samples_for(input.size());
  if (output.size() < expected) return {ResamplerStatus::BufferTooSmall, 0, 0};
  if (state_ == nullptr) {
    std::copy(input.begin(), input.end(), output.begin());
    return {ResamplerStatus::Ok, input.size(), input.size()};
  }
  auto input_length = static_cast<spx_uint32_t>(input.size());
  auto output_length = static_cast<spx_uint32_t>(expected);
  const int error =
      speex_resampler_process_int(speex(state_), 0, input.data(), &input_length, output.data(), &output_length);
  if (error != RESAMPLER_ERR_SUCCESS) return {ResamplerStatus::ResamplerError, 0, 0};
  return {ResamplerStatus::Ok, input_length, output_length};
}

std::size_t Resampler::latency_output_samples() const {
  if (state_ == nullptr) return 0;
  return static_cast<std::size_t>(speex_resampler_get_output_latency(speex(state_)));
}

void Resampler::reset() {
  if (state_ != nullptr) speex_resampler_reset_mem(speex(state_));
}

}  // namespace mrfp::mixer
