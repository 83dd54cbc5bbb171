#include "opus_codec.h"

#include <opus/opus.h>

#include <algorithm>

namespace mrfp::mixer {
namespace {

struct OpusEncoderDeleter {
  void operator()(OpusEncoder* encoder) const { opus_encoder_destroy(encoder); }
};
struct OpusDecoderDeleter {
  void operator()(OpusDecoder* decoder) const { opus_decoder_destroy(decoder); }
};

CodecStatus status_from_opus(int error) {
  switch (error) {
    case OPUS_OK: return CodecStatus::Ok;
    case OPUS_BAD_ARG: return CodecStatus::UnsupportedSetting;
    case OPUS_BUFFER_TOO_SMALL: return CodecStatus::BufferTooSmall;
    case OPUS_INVALID_PACKET: return CodecStatus::CorruptPayload;
    default: return CodecStatus::CodecError;
  }
}

class OpusAudioEncoder final : public AudioEncoder {
 public:
  OpusAudioEncoder(OpusEncoder* encoder, const CodecConfig& config)
      : encoder_(encoder),
        rate_hz_(config.pcm_rate_hz),
        frame_samples_(mixer::samples_per_frame(config.pcm_rate_hz, config.frame_ms)),
        dtx_(config.opus.dtx) {}

  Codec codec() const override { return Codec::Opus; }
  std::uint32_t pcm_rate_hz() const override { return rate_hz_; }
  std::size_t samples_per_frame() const override { return frame_samples_; }

  EncodeResult encode(std::span<const std::int16_t> pcm, std::span<std::uint8_t> payload) override {
    if (pcm.size() != frame_samples_) return {CodecStatus::WrongFrameSize, 0};
    const auto max_bytes = static_cast<opus_int32>(std::min<std::size_t>(payload.size(), kMaxEncodedFrameBytes));
    const opus_int32 written =
        opus_encode(encoder_.get(), pcm.data(), static_cast<int>(frame_samples_), payload.data(), max_bytes);
    if (written < 0) return {status_from_opus(written), 0};
    // libopus: with DTX on, a packet of 2 bytes or less carries no audio and
    // need not be sent (RFC 7587 §3.1.3 lets the receiver run PLC / CN).
    if (dtx_ && written <= 2) return {CodecStatus::Ok, 0};
    return {CodecStatus::Ok, static_cast<std::size_t>(written)};
  }

  CodecStatus set_bitrate(std::int32_t bitrate_bps) override {
    if (bitrate_bps < 6000 || bitrate_bps > 510000) return CodecStatus::UnsupportedSetting;
    return status_from_opus(opus_encoder_ctl(encoder_.get(), OPUS_SET_BITRATE(bitrate_bps)));
  }
  CodecStatus set_complexity(int complexity) override {
    if (complexity < 0 || complexity > 10) return CodecStatus::UnsupportedSetting;
    return status_from_opus(opus_encoder_ctl(encoder_.get(), OPUS_SET_COMPLEXITY(complexity)));
  }
  CodecStatus set_dtx(bool enabled) override {
    const CodecStatus status = status_from_opus(opus_encoder_ctl(encoder_.get(), OPUS_SET_DTX(enabled ? 1 : 0)));
    if (status == CodecStatus::Ok) dtx_ = enabled;
    return status;
  }
  CodecStatus set_inband_fec(bool enabled, int expected_packet_loss_percent) override {
    if (expected_packet_loss_percent < 0 || expected_packet_loss_percent > 100) return CodecStatus::UnsupportedSetting;
    const CodecStatus status = status_from_opus(opus_encoder_ctl(encoder_.get(), OPUS_SET_INBAND_FEC(enabled ? 1 : 0)));
    if (status != CodecStatus::Ok) return status;
    // LBRR is only spent when the encoder expects loss (libopus).
    return status_from_opus(opus_encoder_ctl(encoder_.get(), OPUS_SET_PACKET_LOSS_PERC(expected_packet_loss_percent)));
  }
  void reset() override { opus_encoder_ctl(encoder_.get(), OPUS_RESET_STATE); }

 private:
  std::unique_ptr<OpusEncoder, OpusEncoderDeleter> encoder_;
  std::uint32_t rate_hz_;
  std::size_t frame_samples_;
  bool dtx_;
};

class OpusAudioDecoder final : public AudioDecoder {
 public:
  OpusAudioDecoder(OpusDecoder* decoder, const CodecConfig& config)
      : decoder_(decoder),
        rate_hz_(config.pcm_rate_hz),
        frame_samples_(mixer::samples_per_frame(config.pcm_rate_hz, config.frame_ms)),
        max_packet_samples_(mixer::samples_per_frame(config.pcm_rate_hz, 120)) {}

  Codec codec() const override { return Codec::Opus; }
  std::uint32_t pcm_rate_hz() const override { return rate_hz_; }
  std::size_t samples_per_frame() const override { return frame_samples_; }

  DecodeResult decode(std::span<const std::uint8_t> payload, std::span<std::int16_t> pcm) override {
    if (payload.empty()) return conceal(pcm);
    if (pcm.size() < frame_samples_) return {CodecStatus::BufferTooSmall, 0};
    // frame_size is the room in pcm; an Opus packet lasts at most 120 ms.
    const auto room = static_cast<int>(std::min(pcm.size(), max_packet_samples_));
    const int decoded = opus_decode(decoder_.get(), payload.data(), static_cast<opus_int32>(payload.size()),
                                    pcm.data(), room, 0);
    if (decoded < 0) return {status_from_opus(decoded), 0};
    return {CodecStatus::Ok, static_cast<std::size_t>(decoded)};
  }

  DecodeResult conceal(std::span<std::int16_t> pcm) override {
    if (pcm.size() < frame_samples_) return {CodecStatus::BufferTooSmall, 0};
    // RFC 6716 §4.4 / libopus: a NULL packet asks the decoder for PLC of
    // exactly frame_size samples.
    const int decoded = opus_decode(decoder_.get(), nullptr, 0, pcm.data(), static_cast<int>(frame_samples_), 0);
    if (decoded < 0) return {status_from_opus(decoded), 0};
    return {CodecStatus::Ok, static_cast<std::size_t>(decoded)};
  }

  bool supports_fec() const override { return true; }

  DecodeResult decode_fec(std::span<const std::uint8_t> next_payload, std::span<std::int16_t> pcm) override {
    if (next_payload.empty()) return conceal(pcm);
    if (pcm.size() < frame_samples_) return {CodecStatus::BufferTooSmall, 0};
    // RFC 7587 §3.1.2: decode_fec=1 with frame_size equal to the lost duration
    // yields the previous frame from this packet's LBRR (PLC where it has none).
    const int decoded = opus_decode(decoder_.get(), next_payload.data(), static_cast<opus_int32>(next_payload.size()),
                                    pcm.data(), static_cast<int>(frame_samples_), 1);
    if (decoded < 0) return {status_from_opus(decoded), 0};
    return {CodecStatus::Ok, static_cast<std::size_t>(decoded)};
  }

  void reset() override { opus_decoder_ctl(decoder_.get(), OPUS_RESET_STATE); }

 private:
  std::unique_ptr<OpusDecoder, OpusDecoderDeleter> decoder_;
  std::uint32_t rate_hz_;
  std::size_t frame_samples_;
  std::size_t max_packet_samples_;
};

}  // namespace

std::unique_ptr<AudioEncoder> make_opus_encoder(const CodecConfig& config, CodecStatus* status) {
  int error = OPUS_OK;
  // VOIP application: favours speech intelligibility, enables the SILK modes
  // that carry LBRR.
  OpusEncoder* raw = opus_encoder_create(static_cast<opus_int32>(config.pcm_rate_hz), 1, OPUS_APPLICATION_VOIP, &error);
  if (raw == nullptr || error != OPUS_OK) {
    if (raw != nullptr) opus_encoder_destroy(raw);
    if (status != nullptr) *status = status_from_opus(error);
    return nullptr;
  }
  auto encoder = std::make_unique<OpusAudioEncoder>(raw, config);
  CodecStatus result = encoder->set_bitrate(config.opus.bitrate_bps);
  if (result == CodecStatus::Ok) result = encoder->set_complexity(config.opus.complexity);
  if (result == CodecStatus::Ok) result = encoder->set_dtx(config.opus.dtx);
  if (result == CodecStatus::Ok) {
    result = encoder->set_inband_fec(config.opus.inband_fec, config.opus.expected_packet_loss_percent);
  }
  if (result == CodecStatus::Ok) {
    result = status_from_opus(opus_encoder_ctl(raw, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)));
  }
  if (status != nullptr) *status = result;
  if (result != CodecStatus::Ok) return nullptr;
  return encoder;
}

std::unique_ptr<AudioDecoder> make_opus_decoder(const CodecConfig& config, CodecStatus* status) {
  int error = OPUS_OK;
  OpusDecoder* raw = opus_decoder_create(static_cast<opus_int32>(config.pcm_rate_hz), 1, &error);
  if (raw == nullptr || error != OPUS_OK) {
    if (raw != nullptr) opus_decoder_destroy(raw);
    if (status != nullptr) *status = status_from_opus(error);
    return nullptr;
  }
  if (status != nullptr) *status = CodecStatus::Ok;
  return std::make_unique<OpusAudioDecoder>(raw, config);
}

}  // namespace mrfp::mixer
