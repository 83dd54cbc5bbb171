// Deterministic mixes end to end: G.711 participants at an 8 kHz mix (no
// resampling, no lossy step but G.711's own, which is table-exact), so every
// output byte is predictable: encode(saturate(sum of the speakers' decoded
// samples)) for the common stream, encode(saturate(sum - own)) for each
// speaker's mix-minus, saturation at both edges included.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "mixer/conference_mixer.h"
#include "mixer/g711.h"

namespace mrfp::mixer {
namespace {

constexpr std::size_t kSamples = 160;  // 20 ms at 8 kHz

struct Encoding {
  Codec codec;
  std::uint8_t payload_type;
  std::uint8_t (*encode)(std::int16_t);
  std::int16_t (*decode)(std::uint8_t);
};

class ConferenceExactMix : public ::testing::TestWithParam<Encoding> {};

TEST_P(ConferenceExactMix, EveryOutputByteIsTheSaturatedSumReEncoded) {
  const Encoding& g = GetParam();
  ConferenceConfig config;
  config.max_participants = 4;
  config.codecs = {g.codec};
  config.max_speakers = 3;
  auto mixer = ConferenceMixer::create(config);
  ASSERT_NE(mixer, nullptr);
  ASSERT_EQ(mixer->mix_rate_hz(), 8000u);

  // Three speakers whose frames walk all 256 codes in different orders, so
  // sums land everywhere from deep negative saturation to positive
  // saturation; one silent listener.
  std::array<std::array<std::uint8_t, kSamples>, 3> payloads{};
  for (std::size_t n = 0; n < kSamples; ++n) {
    payloads[0][n] = static_cast<std::uint8_t>(n * 37 + 11);
    payloads[1][n] = static_cast<std::uint8_t>(n * 3 + 128);
    payloads[2][n] = static_cast<std::uint8_t>(255 - n);
  }
  // Force both edges: every speaker at full scale with the same sign.
  for (auto& p : payloads) {
    p[0] = g.encode(32767);
    p[1] = g.encode(-32768);
  }
  std::array<ParticipantHandle, 3> speakers{};
  for (auto& s : speakers) s = mixer->add_participant({g.codec, g.payload_type}).handle;
  const ParticipantHandle listener = mixer->add_participant({g.codec, g.payload_type}).handle;
  std::array<std::uint8_t, kSamples> silence{};
  silence.fill(g.encode(0));

  std::span<const OutputFrame> frames;
  for (std::uint16_t t = 0; t < 6; ++t) {
    for (std::size_t i = 0; i < speakers.size(); ++i) {
      ASSERT_EQ(mixer->push(speakers[i], t, t * 160u, payloads[i], AudioLevel{10, true}, t * 20000), MixerStatus::Ok);
    }
    ASSERT_EQ(mixer->push(listener, t, t * 160u, silence, AudioLevel{127, false}, t * 20000), MixerStatus::Ok);
    frames = mixer->tick();
  }
  ASSERT_EQ(frames.size(), 4u);  // three mix-minus + one common

  std::array<std::int32_t, kSamples> sum{};
  for (const auto& p : payloads) {
    for (std::size_t n = 0; n < kSamples; ++n) sum[n] += g.decode(p[n]);
  }
  const auto saturate = [](std::int32_t v) { return static_cast<std::int16_t>(std::clamp(v, -32768, 32767)); };

  const OutputFrame* common = nullptr;
  for (const OutputFrame& f : frames) {
    if (f.stream.kind == OutputStreamId::Kind::Common) common = &f;
  }
  ASSERT_NE(common, nullptr);
  ASSERT_EQ(common->payload.size(), kSamples);
  ASSERT_EQ(common->listeners.size(), 1u);
  EXPECT_EQ(common->listeners[0], listener);
  int saturated = 0;
  for (std::size_t n = 0; n < kSamples; ++n) {
    ASSERT_EQ(common->payload[n], g.encode(saturate(sum[n]))) << "sample " << n;
    saturated += sum[n] > 32767 || sum[n] < -32768;
  }
  EXPECT_GE(saturated, 2);  // the edges were exercised

  for (std::size_t i = 0; i < speakers.size(); ++i) {
    const OutputFrame* own = nullptr;
    for (const OutputFrame& f : frames) {
      if (f.stream == OutputStreamId::mix_minus(speakers[i])) own = &f;
    }
    ASSERT_NE(own, nullptr) << i;
    ASSERT_EQ(own->payload.size(), kSamples);
    for (std::size_t n = 0; n < kSamples; ++n) {
      const std::int32_t minus = sum[n] - g.decode(payloads[i][n]);
      ASSERT_EQ(own->payload[n], g.encode(saturate(minus))) << "speaker " << i << " sample " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(G711, ConferenceExactMix,
                         ::testing::Values(Encoding{Codec::Pcmu, 0, g711::encode_ulaw, g711::decode_ulaw},
                                           Encoding{Codec::Pcma, 8, g711::encode_alaw, g711::decode_alaw}),
                         [](const ::testing::TestParamInfo<Encoding>& param) {
                           return std::string(name(param.param.codec));
                         });

}  // namespace
}  // namespace mrfp::mixer
