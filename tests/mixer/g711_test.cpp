// G.711 against ITU-T G.711 Tables 1a / 2a: known code words, segment edges,
// and the round trips.
#include "mixer/g711.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <numbers>
#include <vector>

#include "mixer/codec.h"
#include "tests/mixer/goertzel.h"

namespace mrfp::mixer {
namespace {

TEST(G711, UlawKnownCodeWords) {
  EXPECT_EQ(g711::decode_ulaw(0xFF), 0);       // positive zero
  EXPECT_EQ(g711::decode_ulaw(0x7F), 0);       // negative zero
  EXPECT_EQ(g711::encode_ulaw(0), 0xFF);
  EXPECT_EQ(g711::encode_ulaw(-1), 0x7F);
  EXPECT_EQ(g711::decode_ulaw(0x80), 32124);   // largest positive
  EXPECT_EQ(g711::decode_ulaw(0x00), -32124);  // largest negative
  EXPECT_EQ(g711::encode_ulaw(32767), 0x80);
  EXPECT_EQ(g711::encode_ulaw(-32768), 0x00);
}

TEST(G711, AlawKnownCodeWords) {
  EXPECT_EQ(g711::decode_alaw(0xD5), 8);
  EXPECT_EQ(g711::decode_alaw(0x55), -8);
  EXPECT_EQ(g711::encode_alaw(0), 0xD5);
  EXPECT_EQ(g711::encode_alaw(-1), 0x55);
  EXPECT_EQ(g711::decode_alaw(0xAA), 32256);
  EXPECT_EQ(g711::decode_alaw(0x2A), -32256);
  EXPECT_EQ(g711::encode_alaw(32767), 0xAA);
  EXPECT_EQ(g711::encode_alaw(-32768), 0x2A);
}

// Segment end points from G.711 Table 2a (mu-law), in 14-bit units: segment s
// starts where the step doubles. Decoded values of the first step of each
// segment, in 16-bit scale (x4), from the table's decoder output column.
TEST(G711, UlawSegmentBoundaries) {
  // Transmitted code word (positive) for segment s, step 0 is ~(s << 4) & 0xFF | 0x80.
  const std::array<int, 8> first_decoded_14bit = {0, 33, 99, 231, 495, 1023, 2079, 4191};
  for (int segment = 0; segment < 8; ++segment) {
    const auto code = static_cast<std::uint8_t>(0xFF ^ (segment << 4));
    EXPECT_EQ(g711::decode_ulaw(code), first_decoded_14bit[static_cast<std::size_t>(segment)] * 4) << segment;
  }
  // Decision thresholds: 14-bit magnitudes 30 | 31 split segment 0 from 1 (with bias 33: 63 | 64).
  EXPECT_EQ(g711::encode_ulaw(30 * 4), 0xF0);
  EXPECT_EQ(g711::encode_ulaw(31 * 4), 0xEF);
  EXPECT_EQ(g711::encode_ulaw(4062 * 4), 0x90);
  EXPECT_EQ(g711::encode_ulaw(4063 * 4), 0x8F);
}

TEST(G711, AlawSegmentBoundaries) {
  // 13-bit magnitudes 31 | 32 split segments 0 and 1 (same step), 63 | 64
  // split 1 and 2 (step doubles), ... 2047 | 2048 split 6 and 7.
  EXPECT_EQ(g711::encode_alaw(31 * 8), static_cast<std::uint8_t>(0x8F ^ 0x55));
  EXPECT_EQ(g711::encode_alaw(32 * 8), static_cast<std::uint8_t>(0x90 ^ 0x55));
  EXPECT_EQ(g711::encode_alaw(63 * 8), static_cast<std::uint8_t>(0x9F ^ 0x55));
  EXPECT_EQ(g711::encode_alaw(64 * 8), static_cast<std::uint8_t>(0xA0 ^ 0x55));
  EXPECT_EQ(g711::encode_alaw(2047 * 8), static_cast<std::uint8_t>(0xEF ^ 0x55));
  EXPECT_EQ(g711::encode_alaw(2048 * 8), static_cast<std::uint8_t>(0xF0 ^ 0x55));
  EXPECT_EQ(g711::decode_alaw(0x90 ^ 0x55), 33 * 8);
  EXPECT_EQ(g711::decode_alaw(0xA0 ^ 0x55), 66 * 8);
  EXPECT_EQ(g711::decode_alaw(0xF0 ^ 0x55), 2112 * 8);
}

// encode(decode(x)) == x for every code word. The one exception is mu-law's
// negative zero 0x7F: it decodes to 0, which encodes as positive zero 0xFF
// (G.711 gives both zeros the same linear value).
TEST(G711, AllCodeWordsRoundTrip) {
  for (int code = 0; code < 256; ++code) {
    const auto word = static_cast<std::uint8_t>(code);
    EXPECT_EQ(g711::encode_alaw(g711::decode_alaw(word)), word) << "A-law " << code;
    if (word == 0x7F) continue;
    EXPECT_EQ(g711::encode_ulaw(g711::decode_ulaw(word)), word) << "mu-law " << code;
  }
  EXPECT_EQ(g711::encode_ulaw(g711::decode_ulaw(0x7F)), 0xFF);
}

// Every 16-bit sample encodes to the code word whose decoded value is nearest
// in its law's quantisation, i.e. the error stays within half a step.
TEST(G711, QuantisationErrorWithinHalfStep) {
  for (int sample = -32768; sample <= 32767; ++sample) {
    const auto s = static_cast<std::int16_t>(sample);
    const int ulaw_error = std::abs(g711::decode_ulaw(g711::encode_ulaw(s)) - sample);
    const int alaw_error = std::abs(g711::decode_alaw(g711::encode_alaw(s)) - sample);
    // Largest steps: mu-law 256 x4 / 2 ... clipped ends go further; bound by segment.
    const int magnitude = std::abs(sample);
    const int ulaw_half_step = magnitude >= 32124 ? 32768 - 32124 + 512 : 512;
    EXPECT_LE(ulaw_error, ulaw_half_step) << sample;
    const int alaw_half_step = magnitude >= 32256 ? 32768 - 32256 + 512 : 512;
    EXPECT_LE(alaw_error, alaw_half_step) << sample;
    if (magnitude < 64) {
      EXPECT_LE(ulaw_error, 4) << sample;   // finest mu-law step is 2 in 14-bit units
      EXPECT_LE(alaw_error, 8) << sample;   // finest A-law step is 2 in 13-bit units
    }
  }
}

TEST(G711, CodecObjectsKeepAToneThroughPcmuAndPcma) {
  for (const Codec law : {Codec::Pcmu, Codec::Pcma}) {
    CodecConfig config;
    config.codec = law;
    auto encoder = make_encoder(config);
    auto decoder = make_decoder(config);
    ASSERT_NE(encoder, nullptr);
    ASSERT_NE(decoder, nullptr);
    test::SineSource tone(1000.0, 8000.0, 10000.0);
    std::vector<std::int16_t> pcm(160);
    std::vector<std::int16_t> out(160);
    std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
    tone.fill(pcm);
    const EncodeResult encoded = encoder->encode(pcm, payload);
    ASSERT_EQ(encoded.status, CodecStatus::Ok);
    ASSERT_EQ(encoded.bytes, 160u);
    const DecodeResult decoded = decoder->decode(std::span(payload).first(encoded.bytes), out);
    ASSERT_EQ(decoded.status, CodecStatus::Ok);
    ASSERT_EQ(decoded.samples, 160u);
    EXPECT_NEAR(test::goertzel_amplitude(out, 1000.0, 8000.0), 10000.0, 300.0) << name(law);
  }
}

TEST(G711, RejectsOtherRatesAndWrongFrames) {
  CodecConfig config;
  config.pcm_rate_hz = 16000;
  CodecStatus status = CodecStatus::Ok;
  EXPECT_EQ(make_encoder(config, &status), nullptr);
  EXPECT_EQ(status, CodecStatus::UnsupportedRate);
  config.pcm_rate_hz = 8000;
  config.frame_ms = 25;
  EXPECT_EQ(validate(config), CodecStatus::UnsupportedFrameDuration);
  config.frame_ms = 30;
  EXPECT_EQ(validate(config), CodecStatus::Ok);
  auto encoder = make_encoder(config);
  std::vector<std::int16_t> short_frame(100);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  EXPECT_EQ(encoder->encode(short_frame, payload).status, CodecStatus::WrongFrameSize);
  EXPECT_EQ(encoder->set_bitrate(32000), CodecStatus::UnsupportedSetting);
}

TEST(G711, ConcealmentRepeatsThePitchThenFadesToSilence) {
  CodecConfig config;
  auto encoder = make_encoder(config);
  auto decoder = make_decoder(config);
  test::SineSource tone(200.0, 8000.0, 8000.0);  // period 40 samples
  std::vector<std::int16_t> pcm(160);
  std::vector<std::int16_t> out(160);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  for (int frame = 0; frame < 5; ++frame) {
    tone.fill(pcm);
    const auto bytes = encoder->encode(pcm, payload).bytes;
    ASSERT_EQ(decoder->decode(std::span(payload).first(bytes), out).samples, 160u);
  }
  EXPECT_FALSE(decoder->supports_fec());
  EXPECT_EQ(decoder->decode_fec(payload, out).status, CodecStatus::NoFec);
  // First lost 20 ms: the first 10 ms is the tone at full level, then it fades.
  ASSERT_EQ(decoder->conceal(out).status, CodecStatus::Ok);
  EXPECT_NEAR(test::goertzel_amplitude(std::span(out).first(80), 200.0, 8000.0), 8000.0, 800.0);
  const double later = test::goertzel_amplitude(std::span(out).last(80), 200.0, 8000.0);
  EXPECT_LT(later, 8000.0);
  EXPECT_GT(later, 4000.0);
  // From 60 ms on the concealment is silent.
  decoder->conceal(out);
  decoder->conceal(out);
  decoder->conceal(out);
  for (const std::int16_t sample : out) EXPECT_EQ(sample, 0);
}

}  // namespace
}  // namespace mrfp::mixer

namespace mrfp::mixer {
namespace {

// When audio returns after a loss the concealment cross-fades into it (G.711
// App. I): even when the real signal comes back in opposite phase, the seam
// steps no more than the signal's own slope plus a small share of the jump.
TEST(G711, ReturnFromConcealmentHasNoClick) {
  CodecConfig config;
  auto encoder = make_encoder(config);
  auto decoder = make_decoder(config);
  constexpr double kAmplitude = 8000.0;
  test::SineSource tone(250.0, 8000.0, kAmplitude);  // period 32 samples
  std::vector<std::int16_t> quarter_period(8);
  tone.fill(quarter_period);  // frames now end at the crest: the worst seam
  std::vector<std::int16_t> pcm(160);
  std::vector<std::int16_t> out(160);
  std::vector<std::uint8_t> payload(kMaxEncodedFrameBytes);
  for (int frame = 0; frame < 4; ++frame) {
    tone.fill(pcm);
    decoder->decode(std::span(payload).first(encoder->encode(pcm, payload).bytes), out);
  }
  std::vector<std::int16_t> concealed(160);
  decoder->conceal(concealed);
  tone.fill(pcm);  // the lost frame
  tone.fill(pcm);
  for (auto& sample : pcm) sample = static_cast<std::int16_t>(-sample);  // back in opposite phase
  decoder->decode(std::span(payload).first(encoder->encode(pcm, payload).bytes), out);
  const int naive_jump = std::abs(pcm[0] - concealed.back());  // what the seam would be without cross-fade
  int largest_step = std::abs(out[0] - concealed.back());
  for (std::size_t i = 1; i < out.size(); ++i) largest_step = std::max(largest_step, std::abs(out[i] - out[i - 1]));
  const double tone_slope = kAmplitude * 2.0 * std::numbers::pi * 250.0 / 8000.0;  // ~1571 per sample
  EXPECT_LT(largest_step, tone_slope + 2.0 * kAmplitude / 32.0 + 200.0);
  EXPECT_GT(naive_jump, 10000) << "the test's seam is a real discontinuity";
}

}  // namespace
}  // namespace mrfp::mixer
