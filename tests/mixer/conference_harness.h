// A tiny conference around a ConferenceMixer for tests: simulated senders that
// encode a tone (or silence) each tick and push it with an optional RFC 6464
// level, and receivers that decode every output stream and keep its audio.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "mixer/audio_level.h"
#include "mixer/codec.h"
#include "mixer/conference_mixer.h"
#include "goertzel.h"

namespace mrfp::mixer::test {

struct SenderOptions {
  Codec codec = Codec::Pcmu;
  std::uint8_t payload_type = 0;
  double tone_hz = 0;         // 0 = silence
  double amplitude = 8000;    // about -15 dBov RMS
  bool with_extension = true; // send the RFC 6464 level
  Direction direction = Direction::SendRecv;
};

inline std::uint8_t default_payload_type(Codec codec) {
  return codec == Codec::Pcmu ? 0 : codec == Codec::Pcma ? 8 : 111;
}

class TestConference {
 public:
  explicit TestConference(const ConferenceConfig& config) {
    MixerStatus status{};
    mixer = ConferenceMixer::create(config, &status);
    EXPECT_EQ(status, MixerStatus::Ok) << describe(status);
  }

  // Adds a participant that sends (and receives) as described.
  std::size_t add(SenderOptions o) {
    if (o.payload_type == 0 && o.codec != Codec::Pcmu) o.payload_type = default_payload_type(o.codec);
    const auto added = mixer->add_participant({o.codec, o.payload_type, o.direction});
    EXPECT_EQ(added.status, MixerStatus::Ok) << describe(added.status);
    Sender s;
    s.options = o;
    s.handle = added.handle;
    const std::uint32_t rate = native_pcm_rate(o.codec);
    s.encoder = make_encoder({o.codec, rate, mixer->config().frame_ms, {}});
    EXPECT_NE(s.encoder, nullptr);
    s.tone = std::make_unique<SineSource>(o.tone_hz, rate, o.tone_hz > 0 ? o.amplitude : 0.0);
    s.pcm.resize(samples_per_frame(rate, mixer->config().frame_ms));
    senders.push_back(std::move(s));
    return senders.size() - 1;
  }

  ParticipantHandle handle(std::size_t i) const { return senders[i].handle; }

  // Change what a sender sends from now on.
  void set_tone(std::size_t i, double hz, double amplitude = 8000) {
    const std::uint32_t rate = native_pcm_rate(senders[i].options.codec);
    senders[i].options.tone_hz = hz;
    senders[i].tone = std::make_unique<SineSource>(hz, rate, hz > 0 ? amplitude : 0.0);
  }
  // Overrides the level put in the extension (nullopt: the true level).
  void set_extension_level(std::size_t i, std::optional<std::uint8_t> level) { senders[i].forced_level = level; }

  // One frame time: every sending participant pushes one packet, then the mixer ticks.
  std::span<const OutputFrame> step() {
    for (Sender& s : senders) {
      if (!sends_to_mixer(s.options.direction)) continue;
      s.tone->fill(s.pcm);
      std::array<std::uint8_t, kMaxEncodedFrameBytes> payload{};
      const EncodeResult r = s.encoder->encode(s.pcm, payload);
      EXPECT_EQ(r.status, CodecStatus::Ok);
      RtpPacketInfo packet;
      packet.sequence = s.sequence++;
      packet.timestamp = s.timestamp;
      s.timestamp += static_cast<std::uint32_t>(samples_per_frame(rtp_clock_rate(s.options.codec), mixer->config().frame_ms));
      packet.payload = {payload.data(), r.bytes};
      if (s.options.with_extension) {
        const std::uint8_t level = s.forced_level.value_or(compute_audio_level(s.pcm));
        packet.audio_level = AudioLevel{level, level <= 50};
      }
      packet.arrival_time_us = now_us;
      EXPECT_EQ(mixer->push(s.handle, packet), MixerStatus::Ok);
    }
    now_us += mixer->config().frame_ms * 1000;
    const auto frames = mixer->tick();
    receive(frames);
    return frames;
  }

  void run(int ticks) {
    for (int i = 0; i < ticks; ++i) step();
  }

  // Decoded audio of one output stream, at its codec's native rate.
  struct StreamAudio {
    Codec codec = Codec::Pcmu;
    std::unique_ptr<AudioDecoder> decoder;
    std::vector<std::int16_t> pcm;
  };
  using StreamKey = std::tuple<int, std::uint32_t, std::uint32_t>;
  static StreamKey key(const OutputStreamId& id) { return {static_cast<int>(id.kind), id.index, id.generation}; }

  // The last `ms` of a stream's audio.
  std::span<const std::int16_t> tail(const OutputStreamId& id, std::uint32_t ms) const {
    const auto it = streams.find(key(id));
    if (it == streams.end()) return {};
    const std::size_t n = samples_per_frame(native_pcm_rate(it->second.codec), ms);
    const auto& pcm = it->second.pcm;
    if (pcm.size() < n) return {};
    return {pcm.data() + pcm.size() - n, n};
  }
  // Amplitude of a tone in the last 200 ms of a stream.
  double amplitude(const OutputStreamId& id, double hz) const {
    const auto it = streams.find(key(id));
    if (it == streams.end()) return -1;
    return goertzel_amplitude(tail(id, 200), hz, native_pcm_rate(it->second.codec));
  }

  std::unique_ptr<ConferenceMixer> mixer;
  std::map<StreamKey, StreamAudio> streams;
  std::int64_t now_us = 1'000'000;

 private:
  struct Sender {
    SenderOptions options;
    ParticipantHandle handle;
    std::unique_ptr<AudioEncoder> encoder;
    std::unique_ptr<SineSource> tone;
    std::vector<std::int16_t> pcm;
    std::optional<std::uint8_t> forced_level;
    std::uint16_t sequence = 1000;
    std::uint32_t timestamp = 5000;
  };

  void receive(std::span<const OutputFrame> frames) {
    for (const OutputFrame& f : frames) {
      StreamAudio& audio = streams[key(f.stream)];
      if (!audio.decoder) {
        audio.codec = f.codec;
        audio.decoder = make_decoder({f.codec, native_pcm_rate(f.codec), mixer->config().frame_ms, {}});
      }
      std::vector<std::int16_t> pcm(5760);
      const DecodeResult r = audio.decoder->decode(f.payload, pcm);
      EXPECT_EQ(r.status, CodecStatus::Ok);
      audio.pcm.insert(audio.pcm.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(r.samples));
    }
  }

 public:
  std::vector<Sender> senders;
};

// The frame of a given stream in a tick's output, or null.
inline const OutputFrame* find_frame(std::span<const OutputFrame> frames, const OutputStreamId& id) {
  for (const OutputFrame& f : frames) {
    if (f.stream == id) return &f;
  }
  return nullptr;
}

}  // namespace mrfp::mixer::test
