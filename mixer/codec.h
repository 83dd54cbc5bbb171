// Audio codecs behind one small interface: an encoder and a decoder object per
// stream, made once by a factory (the only allocation), then driven once per
// frame with caller-owned buffers. No exceptions: every call returns a status.
//
// Supported: G.711 mu-law / A-law (PT 0 / 8, 8 kHz PCM only, ITU-T G.711) and
// Opus via libopus (RFC 7587; mono; PCM at 8, 12, 16, 24 or 48 kHz so a decoder
// can hand PCM straight at the conference's mix rate without resampling).
//
// Frame durations: 10, 20, 30, 40 and 60 ms for G.711; 10, 20, 40 and 60 ms for
// Opus. Opus has no 30 ms frame, and a 30 ms packet built from 3 x 10 ms frames
// (RFC 6716 §3.2.5 code 3) needs all three frames to share one TOC configuration,
// which libopus does not promise (it may switch SILK/CELT/hybrid or bandwidth
// between frames). So an Opus codec at 30 ms is rejected with
// CodecStatus::UnsupportedFrameDuration; a 30 ms conference carries Opus
// participants at another ptime, or uses G.711.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "media_types.h"

namespace mrfp::mixer {

enum class CodecStatus : std::uint8_t {
  Ok,
  UnsupportedRate,           // PCM rate the codec cannot take (G.711: 8000 only)
  UnsupportedFrameDuration,  // see the frame durations above
  UnsupportedSetting,        // e.g. bitrate on G.711, or a value out of range
  BufferTooSmall,            // PCM or payload span shorter than one frame
  WrongFrameSize,            // PCM span handed to encode() is not one frame
  CorruptPayload,            // decoder rejected the packet
  NoFec,                     // decode_fec(): codec has no in-band FEC
  CodecError,                // libopus returned an unexpected error
};

std::string_view describe(CodecStatus status);

// Opus encoder knobs (RFC 7587 §3.1; libopus CTLs). Ignored by G.711.
struct OpusEncoderSettings {
  std::int32_t bitrate_bps = 24000;   // 6000..510000
  int complexity = 5;                 // 0..10: CPU against quality
  bool dtx = false;                   // RFC 7587 §3.1.3: stop sending in silence
  bool inband_fec = true;             // LBRR copy of the previous frame (SILK modes)
  int expected_packet_loss_percent = 5;  // drives how much FEC the encoder spends
};

struct CodecConfig {
  Codec codec = Codec::Pcmu;
  std::uint32_t pcm_rate_hz = 8000;  // rate of the PCM the encoder takes / the decoder yields
  std::uint32_t frame_ms = 20;       // one conference frame (tick)
  OpusEncoderSettings opus{};
};

// Samples of one frame at the given rate (e.g. 20 ms at 48 kHz = 960).
constexpr std::size_t samples_per_frame(std::uint32_t rate_hz, std::uint32_t frame_ms) {
  return static_cast<std::size_t>(rate_hz) * frame_ms / 1000;
}

// Payload span to hand encode(): fits G.711 at 60 ms (480 bytes); the Opus
// encoder is told this cap and shapes its output to fit (one RTP packet).
inline constexpr std::size_t kMaxEncodedFrameBytes = 1500;

struct EncodeResult {
  CodecStatus status = CodecStatus::Ok;
  // Payload bytes written. 0 with status Ok means "nothing to send": Opus DTX
  // decided this frame needs no packet (libopus returns <= 2 bytes then).
  std::size_t bytes = 0;
};

struct DecodeResult {
  CodecStatus status = CodecStatus::Ok;
  std::size_t samples = 0;  // PCM samples written at pcm_rate_hz()
};

class AudioEncoder {
 public:
  virtual ~AudioEncoder() = default;
  virtual Codec codec() const = 0;
  virtual std::uint32_t pcm_rate_hz() const = 0;
  virtual std::size_t samples_per_frame() const = 0;

  // Encodes exactly samples_per_frame() mono samples into `payload`
  // (size it kMaxEncodedFrameBytes).
  virtual EncodeResult encode(std::span<const std::int16_t> pcm, std::span<std::uint8_t> payload) = 0;

  // Opus only (G.711 answers UnsupportedSetting). Take effect on the next frame.
  virtual CodecStatus set_bitrate(std::int32_t bitrate_bps) = 0;
  virtual CodecStatus set_complexity(int complexity) = 0;
  virtual CodecStatus set_dtx(bool enabled) = 0;
  virtual CodecStatus set_inband_fec(bool enabled, int expected_packet_loss_percent) = 0;

  // Forget the signal history (a new talk spurt on a fresh stream).
  virtual void reset() = 0;
};

class AudioDecoder {
 public:
  virtual ~AudioDecoder() = default;
  virtual Codec codec() const = 0;
  virtual std::uint32_t pcm_rate_hz() const = 0;
  virtual std::size_t samples_per_frame() const = 0;

  // Decodes one received payload into `pcm` (at least samples_per_frame()
  // samples; an Opus packet longer than the frame needs more, else
  // BufferTooSmall). result.samples says how many were written.
  virtual DecodeResult decode(std::span<const std::uint8_t> payload, std::span<std::int16_t> pcm) = 0;

  // Conceals one missing frame: Opus PLC (opus_decode with NULL; also yields
  // comfort noise during DTX), G.711 repeat-and-fade (see g711_concealment.h).
  // Writes samples_per_frame() samples.
  virtual DecodeResult conceal(std::span<std::int16_t> pcm) = 0;

  // True when decode_fec() can rebuild a lost frame (Opus with LBRR).
  virtual bool supports_fec() const = 0;

  // Rebuilds the frame lost just before `next_payload` from that packet's
  // in-band FEC (RFC 7587 §3.1.2, opus_decode decode_fec=1); when the packet
  // carries no LBRR, libopus falls back to PLC. Writes samples_per_frame()
  // samples. Call decode(next_payload) for the following frame as usual.
  // G.711 answers NoFec and writes nothing: call conceal().
  virtual DecodeResult decode_fec(std::span<const std::uint8_t> next_payload, std::span<std::int16_t> pcm) = 0;

  virtual void reset() = 0;
};

// Factories: the only place that allocates. On failure return nullptr and set
// *status (when non-null) to the reason.
std::unique_ptr<AudioEncoder> make_encoder(const CodecConfig& config, CodecStatus* status = nullptr);
std::unique_ptr<AudioDecoder> make_decoder(const CodecConfig& config, CodecStatus* status = nullptr);

// Checks a configuration without building anything (for control-plane validation).
CodecStatus validate(const CodecConfig& config);

}  // namespace mrfp::mixer
