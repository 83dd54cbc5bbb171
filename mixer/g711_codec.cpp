#include "g711_codec.h"

#include "g711.h"
#include "g711_concealment.h"

namespace mrfp::mixer {
namespace {

class G711Encoder final : public AudioEncoder {
 public:
  G711Encoder(Codec law, std::uint32_t frame_ms) : law_(law), frame_samples_(mixer::samples_per_frame(8000, frame_ms)) {}

  Codec codec() const override { return law_; }
  std::uint32_t pcm_rate_hz() const override { return 8000; }
  std::size_t samples_per_frame() const override { return frame_samples_; }

  EncodeResult encode(std::span<const std::int16_t> pcm, std::span<std::uint8_t> payload) override {
    if (pcm.size() != frame_samples_) return {CodecStatus::WrongFrameSize, 0};
    // One code word per sample (RFC 3551 §4.5.14).
    if (payload.size() < frame_samples_) return {CodecStatus::BufferTooSmall, 0};
    if (law_ == Codec::Pcmu) {
      g711::encode_ulaw(pcm, payload);
    } else {
      g711::encode_alaw(pcm, payload);
    }
    return {CodecStatus::Ok, frame_samples_};
  }

  CodecStatus set_bitrate(std::int32_t) override { return CodecStatus::UnsupportedSetting; }
  CodecStatus set_complexity(int) override { return CodecStatus::UnsupportedSetting; }
  CodecStatus set_dtx(bool) override { return CodecStatus::UnsupportedSetting; }
  CodecStatus set_inband_fec(bool, int) override { return CodecStatus::UnsupportedSetting; }
  void reset() override {}  // G.711 is memoryless

 private:
  Codec law_;
  std::size_t frame_samples_;
};

class G711Decoder final : public AudioDecoder {
 public:
  G711Decoder(Codec law, std::uint32_t frame_ms) : law_(law), frame_samples_(mixer::samples_per_frame(8000, frame_ms)) {}

  Codec codec() const override { return law_; }
  std::uint32_t pcm_rate_hz() const override { return 8000; }
  std::size_t samples_per_frame() const override { return frame_samples_; }

  DecodeResult decode(std::span<const std::uint8_t> payload, std::span<std::int16_t> pcm) override {
    if (payload.empty()) return conceal(pcm);
    // A sender at another ptime gives more or fewer samples; take them all if they fit.
    if (pcm.size() < payload.size()) {
      return {CodecStatus::BufferTooSmall, 0};
    }
    const auto out = pcm.first(payload.size());
    if (law_ == Codec::Pcmu) {
      g711::decode_ulaw(payload, out);
    } else {
      g711::decode_alaw(payload, out);
    }
    concealer_.on_good_frame(out);
    return {CodecStatus::Ok, payload.size()};
  }

  DecodeResult conceal(std::span<std::int16_t> pcm) override {
    if (pcm.size() < frame_samples_) return {CodecStatus::BufferTooSmall, 0};
    concealer_.conceal(pcm.first(frame_samples_));
    return {CodecStatus::Ok, frame_samples_};
  }

  bool supports_fec() const override { return false; }
  DecodeResult decode_fec(std::span<const std::uint8_t>, std::span<std::int16_t>) override {
    return {CodecStatus::NoFec, 0};
  }
  void reset() override { concealer_.reset(); }

 private:
  Codec law_;
  std::size_t frame_samples_;
  G711Concealer concealer_;
};

}  // namespace

std::unique_ptr<AudioEncoder> make_g711_encoder(const CodecConfig& config) {
  return std::make_unique<G711Encoder>(config.codec, config.frame_ms);
}

std::unique_ptr<AudioDecoder> make_g711_decoder(const CodecConfig& config) {
  return std::make_unique<G711Decoder>(config.codec, config.frame_ms);
}

}  // namespace mrfp::mixer
