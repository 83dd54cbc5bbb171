// The codec factory: validates a configuration and builds the codec behind it.
#include "codec.h"

#include "g711_codec.h"
#include "opus_codec.h"

namespace mrfp::mixer {

std::string_view describe(CodecStatus status) {
  switch (status) {
    case CodecStatus::Ok: return "ok";
    case CodecStatus::UnsupportedRate: return "unsupported PCM rate";
    case CodecStatus::UnsupportedFrameDuration: return "unsupported frame duration";
    case CodecStatus::UnsupportedSetting: return "unsupported codec setting";
    case CodecStatus::BufferTooSmall: return "buffer too small for one frame";
    case CodecStatus::WrongFrameSize: return "PCM is not exactly one frame";
    case CodecStatus::CorruptPayload: return "corrupt payload";
    case CodecStatus::NoFec: return "codec has no in-band FEC";
    case CodecStatus::CodecError: return "codec library error";
  }
  return "unknown codec status";
}

CodecStatus validate(const CodecConfig& config) {
  switch (config.codec) {
    case Codec::Pcmu:
    case Codec::Pcma:
      // G.711 is defined at 8 kHz only (RFC 3551 §4.5.14).
      if (config.pcm_rate_hz != 8000) return CodecStatus::UnsupportedRate;
      switch (config.frame_ms) {
        case 10: case 20: case 30: case 40: case 60: return CodecStatus::Ok;
        default: return CodecStatus::UnsupportedFrameDuration;
      }
    case Codec::Opus:
      switch (config.pcm_rate_hz) {
        case 8000: case 12000: case 16000: case 24000: case 48000: break;
        default: return CodecStatus::UnsupportedRate;
      }
      // No 30 ms: see the header comment.
      switch (config.frame_ms) {
        case 10: case 20: case 40: case 60: break;
        default: return CodecStatus::UnsupportedFrameDuration;
      }
      if (config.opus.bitrate_bps < 6000 || config.opus.bitrate_bps > 510000) return CodecStatus::UnsupportedSetting;
      if (config.opus.complexity < 0 || config.opus.complexity > 10) return CodecStatus::UnsupportedSetting;
      if (config.opus.expected_packet_loss_percent < 0 || config.opus.expected_packet_loss_percent > 100) {
        return CodecStatus::UnsupportedSetting;
      }
      return CodecStatus::Ok;
  }
  return CodecStatus::UnsupportedSetting;
}

std::unique_ptr<AudioEncoder> make_encoder(const CodecConfig& config, CodecStatus* status) {
  const CodecStatus valid = validate(config);
  if (status != nullptr) *status = valid;
  if (valid != CodecStatus::Ok) return nullptr;
  if (config.codec == Codec::Opus) return make_opus_encoder(config, status);
  return make_g711_encoder(config);
}

std::unique_ptr<AudioDecoder> make_decoder(const CodecConfig& config, CodecStatus* status) {
  const CodecStatus valid = validate(config);
  if (status != nullptr) *status = valid;
  if (valid != CodecStatus::Ok) return nullptr;
  if (config.codec == Codec::Opus) return make_opus_decoder(config, status);
  return make_g711_decoder(config);
}

}  // namespace mrfp::mixer
