// Opus through the codec interface (RFC 7587): a tone keeps its frequency and
// level, the decoder runs at the mix rate, PLC and in-band FEC fill a lost
// frame, DTX stops sending in silence, and the settings take.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "mixer/codec.h"
#include "mixer/jitter_buffer.h"
#include "tests/mixer/goertzel.h"

namespace mrfp::mixer {
namespace {

CodecConfig opus_config(std::uint32_t rate_hz, std::uint32_t frame_ms) {
  CodecConfig config;
  config.codec = Codec::Opus;
  config.pcm_rate_hz = rate_hz;
  config.frame_ms = frame_ms;
  config.opus.bitrate_bps = 32000;
  return config;
}

// Encodes `frames` frames of a tone at the encoder's rate, decodes each at the
// decoder's rate; returns the decoded PCM of the last `keep` frames.
std::vector<std::int16_t> round_trip_tone(AudioEncoder& encoder, AudioDecoder& decoder, double frequency_hz,
                                          double amplitude, int frames, int keep) {
  test::SineSource tone(frequency_hz, encoder.pcm_rate_hz(), amplitude);
  std::vector<std::int16_t> pcm(encoder.samples_per_frame());
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  std::vector<std::int16_t> decoded(decoder.samples_per_frame());
  std::vector<std::int16_t> kept;
  for (int frame = 0; frame < frames; ++frame) {
    tone.fill(pcm);
    const EncodeResult encoded = encoder.encode(pcm, payload);
    EXPECT_EQ(encoded.status, CodecStatus::Ok);
    EXPECT_GT(encoded.bytes, 2u);
    const DecodeResult result = decoder.decode(std::span(payload).first(encoded.bytes), decoded);
    EXPECT_EQ(result.status, CodecStatus::Ok);
    EXPECT_EQ(result.samples, decoder.samples_per_frame());
    if (frame >= frames - keep) kept.insert(kept.end(), decoded.begin(), decoded.end());
  }
  return kept;
}

// Tolerance: the frequency on a 5 Hz grid within one step; the level within
// 1.5 dB of the input (32 kbit/s mono voice mode).
constexpr double kFrequencyToleranceHz = 5.0;
constexpr double kLevelToleranceDb = 1.5;

TEST(Opus, ToneKeepsFrequencyAndLevelAt48k) {
  auto encoder = make_encoder(opus_config(48000, 20));
  auto decoder = make_decoder(opus_config(48000, 20));
  ASSERT_NE(encoder, nullptr);
  ASSERT_NE(decoder, nullptr);
  EXPECT_EQ(encoder->samples_per_frame(), 960u);
  const auto out = round_trip_tone(*encoder, *decoder, 1000.0, 10000.0, 25, 10);
  EXPECT_NEAR(test::dominant_frequency(out, 48000.0, 300.0, 3000.0, 5.0), 1000.0, kFrequencyToleranceHz);
  EXPECT_NEAR(test::goertzel_dbfs(out, 1000.0, 48000.0), 20.0 * std::log10(10000.0 / 32767.0), kLevelToleranceDb);
}

// The decoder hands PCM straight at the conference's mix rate, whatever rate
// the sender encoded at: no resampler needed for Opus participants.
TEST(Opus, DecoderOutputsAtTheMixRate) {
  for (const std::uint32_t mix_rate : {8000u, 16000u, 48000u}) {
    for (const std::uint32_t frame_ms : {10u, 20u, 40u, 60u}) {
      auto encoder = make_encoder(opus_config(48000, frame_ms));
      auto decoder = make_decoder(opus_config(mix_rate, frame_ms));
      ASSERT_NE(encoder, nullptr);
      ASSERT_NE(decoder, nullptr);
      EXPECT_EQ(decoder->samples_per_frame(), mix_rate * frame_ms / 1000);
      const int frames = static_cast<int>(600 / frame_ms);
      const auto out = round_trip_tone(*encoder, *decoder, 800.0, 8000.0, frames, frames / 2);
      EXPECT_NEAR(test::dominant_frequency(out, mix_rate, 300.0, 3000.0, 5.0), 800.0, kFrequencyToleranceHz)
          << mix_rate << " Hz, " << frame_ms << " ms";
      EXPECT_NEAR(test::goertzel_dbfs(out, 800.0, mix_rate), 20.0 * std::log10(8000.0 / 32767.0), kLevelToleranceDb)
          << mix_rate << " Hz, " << frame_ms << " ms";
    }
  }
}

TEST(Opus, ThirtyMillisecondFramesAreRejected) {
  CodecStatus status = CodecStatus::Ok;
  EXPECT_EQ(make_encoder(opus_config(48000, 30), &status), nullptr);
  EXPECT_EQ(status, CodecStatus::UnsupportedFrameDuration);
  EXPECT_EQ(make_decoder(opus_config(48000, 30), &status), nullptr);
  EXPECT_EQ(status, CodecStatus::UnsupportedFrameDuration);
  EXPECT_EQ(validate(opus_config(44100, 20)), CodecStatus::UnsupportedRate);
}

TEST(Opus, SettingsAreCheckedAndApplied) {
  auto encoder = make_encoder(opus_config(48000, 20));
  ASSERT_NE(encoder, nullptr);
  EXPECT_EQ(encoder->set_bitrate(64000), CodecStatus::Ok);
  EXPECT_EQ(encoder->set_bitrate(1000), CodecStatus::UnsupportedSetting);
  EXPECT_EQ(encoder->set_complexity(10), CodecStatus::Ok);
  EXPECT_EQ(encoder->set_complexity(11), CodecStatus::UnsupportedSetting);
  EXPECT_EQ(encoder->set_inband_fec(true, 20), CodecStatus::Ok);
  EXPECT_EQ(encoder->set_dtx(true), CodecStatus::Ok);
  // A lower bitrate gives smaller packets.
  auto small = make_encoder(opus_config(48000, 20));
  small->set_bitrate(12000);
  test::SineSource tone(500.0, 48000.0, 8000.0);
  std::vector<std::int16_t> pcm(960);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  std::size_t big_bytes = 0;
  std::size_t small_bytes = 0;
  for (int frame = 0; frame < 20; ++frame) {
    tone.fill(pcm);
    big_bytes += encoder->encode(pcm, payload).bytes;
    small_bytes += small->encode(pcm, payload).bytes;
  }
  EXPECT_LT(small_bytes * 2, big_bytes);
  // 12 kbit/s is 30 bytes per 20 ms; VBR, the start-up frames and the LBRR
  // copy may take more, but not twice that.
  EXPECT_LT(static_cast<double>(small_bytes) / 20.0, 60.0);
}

TEST(Opus, ConcealmentFillsALostFrame) {
  auto encoder = make_encoder(opus_config(48000, 20));
  auto decoder = make_decoder(opus_config(48000, 20));
  round_trip_tone(*encoder, *decoder, 600.0, 8000.0, 10, 0);
  std::vector<std::int16_t> concealed(960);
  const DecodeResult result = decoder->conceal(concealed);
  ASSERT_EQ(result.status, CodecStatus::Ok);
  EXPECT_EQ(result.samples, 960u);
  // PLC continues the tone, somewhat attenuated.
  EXPECT_GT(test::goertzel_amplitude(concealed, 600.0, 48000.0), 8000.0 * 0.3);
  EXPECT_EQ(decoder->decode({}, concealed).samples, 960u);  // an empty payload conceals too
}

// The lost frame switches the tone from 500 Hz to 1200 Hz. PLC can only
// extrapolate the 500 Hz past; the next packet's LBRR carries the lost 1200 Hz
// frame, so FEC must bring 1200 Hz back (RFC 7587 §3.1.2).
TEST(Opus, InBandFecRebuildsTheLostFrameFromTheNextPacket) {
  CodecConfig config = opus_config(16000, 20);
  config.opus.inband_fec = true;
  config.opus.expected_packet_loss_percent = 20;
  auto encoder = make_encoder(config);
  ASSERT_NE(encoder, nullptr);
  const std::size_t frame = encoder->samples_per_frame();
  std::vector<std::vector<std::uint8_t>> packets;
  test::SineSource low(500.0, 16000.0, 8000.0);
  test::SineSource high(1200.0, 16000.0, 8000.0);
  std::vector<std::int16_t> pcm(frame);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  constexpr int kLost = 15;
  for (int index = 0; index < 20; ++index) {
    (index < kLost ? low : high).fill(pcm);
    const EncodeResult encoded = encoder->encode(pcm, payload);
    ASSERT_EQ(encoded.status, CodecStatus::Ok);
    packets.emplace_back(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(encoded.bytes));
  }
  auto with_fec = make_decoder(config);
  auto with_plc = make_decoder(config);
  ASSERT_TRUE(with_fec->supports_fec());
  std::vector<std::int16_t> out(frame);
  for (int index = 0; index < kLost; ++index) {
    with_fec->decode(packets[static_cast<std::size_t>(index)], out);
    with_plc->decode(packets[static_cast<std::size_t>(index)], out);
  }
  std::vector<std::int16_t> recovered(frame);
  std::vector<std::int16_t> concealed(frame);
  const DecodeResult fec_result = with_fec->decode_fec(packets[kLost + 1], recovered);
  ASSERT_EQ(fec_result.status, CodecStatus::Ok);
  EXPECT_EQ(fec_result.samples, frame);
  with_plc->conceal(concealed);
  const double fec_high = test::goertzel_amplitude(std::span(recovered).last(frame / 2), 1200.0, 16000.0);
  const double plc_high = test::goertzel_amplitude(std::span(concealed).last(frame / 2), 1200.0, 16000.0);
  EXPECT_GT(fec_high, 8000.0 * 0.25) << "FEC frame carries the lost 1200 Hz";
  EXPECT_GT(fec_high, 4.0 * plc_high);
  // Decoding then goes on with the packet that carried the FEC.
  EXPECT_EQ(with_fec->decode(packets[kLost + 1], out).samples, frame);
  EXPECT_GT(test::goertzel_amplitude(out, 1200.0, 16000.0), 8000.0 * 0.5);
}

TEST(Opus, DtxStopsSendingInSilence) {
  CodecConfig config = opus_config(48000, 20);
  config.opus.dtx = true;
  auto encoder = make_encoder(config);
  ASSERT_NE(encoder, nullptr);
  std::vector<std::int16_t> silence(960, 0);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  int sent = 0;
  for (int frame = 0; frame < 50; ++frame) {
    const EncodeResult encoded = encoder->encode(silence, payload);
    ASSERT_EQ(encoded.status, CodecStatus::Ok);
    if (encoded.bytes > 0) ++sent;
  }
  // After a short hangover only the periodic comfort-noise updates (one per
  // 400 ms) are sent.
  EXPECT_LT(sent, 20);
  CodecConfig no_dtx = opus_config(48000, 20);
  auto plain = make_encoder(no_dtx);
  for (int frame = 0; frame < 10; ++frame) EXPECT_GT(plain->encode(silence, payload).bytes, 0u);
}

TEST(Opus, WrongSizesAreReported) {
  auto encoder = make_encoder(opus_config(48000, 20));
  auto decoder = make_decoder(opus_config(48000, 20));
  std::vector<std::int16_t> short_pcm(100);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  EXPECT_EQ(encoder->encode(short_pcm, payload).status, CodecStatus::WrongFrameSize);
  EXPECT_EQ(decoder->conceal(short_pcm).status, CodecStatus::BufferTooSmall);
  const std::uint8_t garbage[] = {0xFF, 0xFF, 0xFF};
  std::vector<std::int16_t> out(960);
  EXPECT_EQ(decoder->decode(garbage, out).status, CodecStatus::CorruptPayload);
}

TEST(Opus, GarbagePayloadsNeverBreakTheDecoder) {
  auto decoder = make_decoder(opus_config(48000, 20));
  std::mt19937 random(99);
  std::vector<std::uint8_t> payload(400);
  std::vector<std::int16_t> out(5760);  // room for 120 ms
  int rejected = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t size = 1 + random() % payload.size();
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(random());
    const DecodeResult result = decoder->decode(std::span(payload).first(size), out);
    if (result.status == CodecStatus::Ok) {
      EXPECT_LE(result.samples, out.size());
    } else {
      EXPECT_EQ(result.status, CodecStatus::CorruptPayload);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(decoder->conceal(out).status, CodecStatus::Ok);
}

// The codec and the jitter buffer together, as the conference tick uses them:
// a lost packet is rebuilt from the next one's FEC and the tone goes on.
TEST(Opus, JitterBufferLossIsRebuiltByFec) {
  CodecConfig config = opus_config(48000, 20);
  config.opus.expected_packet_loss_percent = 20;
  auto encoder = make_encoder(config);
  auto decoder = make_decoder(config);
  JitterBufferConfig buffer_config;
  buffer_config.clock_rate_hz = 48000;
  buffer_config.min_depth_frames = 2;  // so the next packet is here when the gap is due
  JitterBuffer buffer(buffer_config);
  test::SineSource tone(440.0, 48000.0, 8000.0);
  std::vector<std::int16_t> pcm(960);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  std::vector<std::int16_t> out(960);
  constexpr int kLost = 30;
  double lost_frame_amplitude = 0.0;
  int fec_decodes = 0;
  for (int tick = 0; tick < 50; ++tick) {
    tone.fill(pcm);
    const EncodeResult encoded = encoder->encode(pcm, payload);
    if (tick != kLost) {
      buffer.push(RtpPacketInfo{static_cast<std::uint16_t>(tick), static_cast<std::uint32_t>(tick) * 960u,
                                std::span(payload).first(encoded.bytes), std::nullopt, tick * 20000});
    }
    const PlayoutFrame frame = buffer.pop();
    DecodeResult result;
    if (frame.kind == PlayoutKind::Packet) {
      result = decoder->decode(frame.payload, out);
    } else if (frame.kind == PlayoutKind::Conceal && !frame.payload.empty()) {
      result = decoder->decode_fec(frame.payload, out);
      ++fec_decodes;
      lost_frame_amplitude = test::goertzel_amplitude(out, 440.0, 48000.0);
    } else {
      result = decoder->conceal(out);
    }
    EXPECT_EQ(result.status, CodecStatus::Ok);
  }
  EXPECT_EQ(fec_decodes, 1);
  // LBRR is a low-bitrate copy: the rebuilt frame comes back a few dB down.
  EXPECT_GT(lost_frame_amplitude, 8000.0 * 0.25);
  EXPECT_EQ(buffer.stats().lost, 1u);
}

}  // namespace
}  // namespace mrfp::mixer
