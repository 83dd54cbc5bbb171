// ConferenceMixer: configuration, handles, speaker selection from the RFC 6464
// extension without decoding, mute/deaf/hold/direction, routing of listeners to
// streams, markers, CSRC contributors, and the two policies.
#include "mixer/conference_mixer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "conference_harness.h"

namespace mrfp::mixer::test {
namespace {

ConferenceConfig g711_config(std::uint32_t max_participants = 16) {
  ConferenceConfig c;
  c.max_participants = max_participants;
  c.codecs = {Codec::Pcmu};
  return c;
}

bool listens_to(const OutputFrame& f, ParticipantHandle h) {
  return std::find(f.listeners.begin(), f.listeners.end(), h) != f.listeners.end();
}

// Every frame the participant receives in this tick.
std::vector<const OutputFrame*> received_by(std::span<const OutputFrame> frames, ParticipantHandle h) {
  std::vector<const OutputFrame*> out;
  for (const OutputFrame& f : frames) {
    if (listens_to(f, h)) out.push_back(&f);
  }
  return out;
}

bool contributes(const OutputFrame& f, ParticipantHandle h) {
  return std::any_of(f.contributors.begin(), f.contributors.end(),
                     [&](const Contributor& c) { return c.participant == h; });
}

// --- configuration and handles ---

TEST(ConferenceMixer, DefaultMixRateIsTheLowestThatServesEveryCodec) {
  auto g711 = ConferenceMixer::create(g711_config());
  ASSERT_NE(g711, nullptr);
  EXPECT_EQ(g711->mix_rate_hz(), 8000u);
  EXPECT_EQ(g711->mix_frame_samples(), 160u);
  ConferenceConfig with_opus = g711_config();
  with_opus.codecs = {Codec::Pcmu, Codec::Opus};
  auto opus = ConferenceMixer::create(with_opus);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->mix_rate_hz(), 48000u);
}

TEST(ConferenceMixer, RejectsInvalidConfigurationsWithTheReason) {
  MixerStatus status{};
  ConferenceConfig c = g711_config();
  c.mix_rate_hz = 44100;
  EXPECT_EQ(ConferenceMixer::create(c, &status), nullptr);
  EXPECT_EQ(status, MixerStatus::InvalidMixRate);
  c = g711_config();
  c.frame_ms = 25;
  EXPECT_EQ(ConferenceMixer::create(c, &status), nullptr);
  EXPECT_EQ(status, MixerStatus::InvalidFrameDuration);
  c = g711_config();
  c.codecs = {Codec::Opus};
  c.frame_ms = 30;  // Opus has no 30 ms frame (codec.h)
  EXPECT_EQ(ConferenceMixer::create(c, &status), nullptr);
  EXPECT_EQ(status, MixerStatus::InvalidFrameDuration);
  c = g711_config(0);
  EXPECT_EQ(ConferenceMixer::create(c, &status), nullptr);
  EXPECT_EQ(status, MixerStatus::InvalidCapacity);
  for (std::uint32_t ms : {10u, 20u, 30u, 40u, 60u}) {
    c = g711_config();
    c.frame_ms = ms;
    EXPECT_NE(ConferenceMixer::create(c), nullptr) << ms;
  }
}

TEST(ConferenceMixer, HandlesGoStaleOnRemovalAndCapacityIsEnforced) {
  auto mixer = ConferenceMixer::create(g711_config(2));
  const auto a = mixer->add_participant({Codec::Pcmu, 0});
  const auto b = mixer->add_participant({Codec::Pcmu, 0});
  ASSERT_EQ(a.status, MixerStatus::Ok);
  ASSERT_EQ(b.status, MixerStatus::Ok);
  EXPECT_EQ(mixer->add_participant({Codec::Pcmu, 0}).status, MixerStatus::ConferenceFull);
  EXPECT_EQ(mixer->add_participant({Codec::Opus, 111}).status, MixerStatus::CodecNotInConference);
  EXPECT_EQ(mixer->remove_participant(a.handle), MixerStatus::Ok);
  EXPECT_EQ(mixer->remove_participant(a.handle), MixerStatus::UnknownParticipant);
  EXPECT_EQ(mixer->set_muted(a.handle, true), MixerStatus::UnknownParticipant);
  EXPECT_EQ(mixer->push(a.handle, {}), MixerStatus::UnknownParticipant);
  const auto c = mixer->add_participant({Codec::Pcmu, 0});
  ASSERT_EQ(c.status, MixerStatus::Ok);
  EXPECT_EQ(c.handle.slot, a.handle.slot);  // the slot is reused...
  EXPECT_FALSE(c.handle == a.handle);       // ...under a new generation
  EXPECT_EQ(mixer->participant_count(), 2u);
}

TEST(ConferenceMixer, PreallocatedParticipantsMixTheSame) {
  ConferenceConfig config = g711_config(4);
  config.codecs = {Codec::Pcmu, Codec::Opus};
  config.preallocate_participants = true;
  TestConference conf(config);
  const auto a = conf.add({.tone_hz = 440});
  const auto b = conf.add({.codec = Codec::Opus, .tone_hz = 1000});
  conf.run(15);
  EXPECT_GT(conf.amplitude(OutputStreamId::mix_minus(conf.handle(a)), 1000), 2000);
  EXPECT_GT(conf.amplitude(OutputStreamId::mix_minus(conf.handle(b)), 440), 2000);
}

TEST(ConferenceMixer, TooManyPayloadTypeGroupsIsRefused) {
  auto mixer = ConferenceMixer::create(g711_config(32));
  for (std::uint8_t pt = 0; pt < ConferenceMixer::kMaxStreamGroups; ++pt) {
    ASSERT_EQ(mixer->add_participant({Codec::Pcmu, static_cast<std::uint8_t>(96 + pt)}).status, MixerStatus::Ok);
  }
  EXPECT_EQ(mixer->add_participant({Codec::Pcmu, 120}).status, MixerStatus::TooManyStreamGroups);
  EXPECT_EQ(mixer->add_participant({Codec::Pcmu, 96}).status, MixerStatus::Ok);  // an existing group
}

// --- speaker selection through the mixer ---

TEST(ConferenceMixer, NonSpeakersWithTheExtensionAreRankedWithoutDecoding) {
  ConferenceConfig config = g711_config();
  config.codecs = {Codec::Opus};
  TestConference conf(config);
  std::vector<std::size_t> loud;
  std::vector<std::size_t> quiet;
  for (double hz : {440.0, 1000.0, 1700.0}) loud.push_back(conf.add({.codec = Codec::Opus, .tone_hz = hz}));
  // Quiet talkers (about -55 dBov): below the activity threshold.
  for (double hz : {600.0, 2500.0}) quiet.push_back(conf.add({.codec = Codec::Opus, .tone_hz = hz, .amplitude = 50}));
  const auto no_extension = conf.add({.codec = Codec::Opus, .tone_hz = 800, .amplitude = 50, .with_extension = false});
  constexpr int kTicks = 20;
  conf.run(kTicks);
  for (auto i : loud) {
    EXPECT_TRUE(conf.mixer->is_speaker(conf.handle(i)));
    EXPECT_GE(conf.mixer->decoded_frames(conf.handle(i)), kTicks - 2u);
  }
  for (auto i : quiet) {
    EXPECT_FALSE(conf.mixer->is_speaker(conf.handle(i)));
    EXPECT_EQ(conf.mixer->decoded_frames(conf.handle(i)), 0u) << "a ranked-out participant was decoded";
  }
  // Without the extension the level can only be measured: decoded every tick.
  EXPECT_FALSE(conf.mixer->is_speaker(conf.handle(no_extension)));
  EXPECT_GE(conf.mixer->decoded_frames(conf.handle(no_extension)), kTicks - 2u);
}

TEST(ConferenceMixer, ParticipantWithoutExtensionIsRankedByItsDecodedLevel) {
  TestConference conf(g711_config());
  const auto loud = conf.add({.tone_hz = 700, .with_extension = false});
  const auto quiet = conf.add({.tone_hz = 900, .amplitude = 40, .with_extension = false});
  conf.run(5);
  EXPECT_TRUE(conf.mixer->is_speaker(conf.handle(loud)));
  EXPECT_FALSE(conf.mixer->is_speaker(conf.handle(quiet)));
}

TEST(ConferenceMixer, DecoderIsResetWhenANonDecodedParticipantIsSelected) {
  ConferenceConfig config = g711_config();
  config.codecs = {Codec::Opus};
  config.max_speakers = 1;
  config.hold_ms = 100;  // 5 ticks
  TestConference conf(config);
  const auto a = conf.add({.codec = Codec::Opus, .tone_hz = 440});
  const auto b = conf.add({.codec = Codec::Opus, .tone_hz = 1000});
  conf.set_extension_level(b, 60);  // b claims to be quiet: ranked out, not decoded
  conf.run(10);
  ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(a)));
  ASSERT_EQ(conf.mixer->decoded_frames(conf.handle(b)), 0u);
  const auto resets_before = conf.mixer->stats().decoder_resets;
  // a stops, b starts: after a's hangover b takes the seat and is decoded
  // from a freshly reset decoder.
  conf.set_tone(a, 0);
  conf.set_extension_level(b, std::nullopt);
  conf.run(10);
  EXPECT_TRUE(conf.mixer->is_speaker(conf.handle(b)));
  EXPECT_FALSE(conf.mixer->is_speaker(conf.handle(a)));
  EXPECT_GT(conf.mixer->decoded_frames(conf.handle(b)), 0u);
  EXPECT_GT(conf.mixer->stats().decoder_resets, resets_before);
  // b's mix-minus stream has begun; a is back on the common stream and hears b.
  EXPECT_GT(conf.amplitude(OutputStreamId::common(0), 1000), 2000);
}

TEST(ConferenceMixer, HysteresisAndHoldKeepTheSpeakerSetStable) {
  ConferenceConfig config = g711_config();
  config.max_speakers = 1;
  config.hysteresis_db = 6;
  config.hold_ms = 200;
  TestConference conf(config);
  const auto a = conf.add({.tone_hz = 440});
  const auto b = conf.add({.tone_hz = 1000});
  conf.set_extension_level(a, 20);
  conf.set_extension_level(b, 40);
  conf.run(3);
  ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(a)));
  // b comes within 4 dB, alternately louder and quieter than a: no flapping.
  for (int i = 0; i < 40; ++i) {
    conf.set_extension_level(b, i % 2 ? 18 : 22);
    conf.step();
    ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(a))) << i;
  }
  // 10 dB louder: b takes the seat.
  conf.set_extension_level(b, 10);
  conf.step();
  EXPECT_TRUE(conf.mixer->is_speaker(conf.handle(b)));
}

// --- mute, deaf, hold, direction ---

TEST(ConferenceMixer, MuteDeafHoldAndDirectionsAreRespected) {
  ConferenceConfig config = g711_config();
  config.max_speakers = 0;  // everybody active speaks, so only the rules decide
  TestConference conf(config);
  const auto muted = conf.add({.tone_hz = 300});
  const auto deaf = conf.add({.tone_hz = 500});
  const auto held = conf.add({.tone_hz = 700});
  const auto recvonly = conf.add({.tone_hz = 900, .direction = Direction::RecvOnly});
  const auto sendonly = conf.add({.tone_hz = 1100, .direction = Direction::SendOnly});
  const auto inactive = conf.add({.tone_hz = 1300, .direction = Direction::Inactive});
  const auto silent = conf.add({});
  ASSERT_EQ(conf.mixer->set_muted(conf.handle(muted), true), MixerStatus::Ok);
  ASSERT_EQ(conf.mixer->set_deaf(conf.handle(deaf), true), MixerStatus::Ok);
  ASSERT_EQ(conf.mixer->set_on_hold(conf.handle(held), true), MixerStatus::Ok);
  conf.run(10);
  const auto frames = conf.step();

  // Mixed: only the deaf and the sendonly participant (they send, unmuted).
  std::vector<ParticipantHandle> speakers;
  for (std::size_t i : {muted, deaf, held, recvonly, sendonly, inactive, silent}) {
    if (conf.mixer->is_speaker(conf.handle(i))) speakers.push_back(conf.handle(i));
  }
  EXPECT_EQ(speakers, (std::vector<ParticipantHandle>{conf.handle(deaf), conf.handle(sendonly)}));

  // Receiving: muted, recvonly and silent hear the common stream; deaf, held,
  // sendonly and inactive receive nothing.
  for (std::size_t i : {muted, recvonly, silent}) {
    const auto got = received_by(frames, conf.handle(i));
    ASSERT_EQ(got.size(), 1u) << i;
    EXPECT_EQ(got[0]->stream, OutputStreamId::common(0));
  }
  for (std::size_t i : {deaf, held, sendonly, inactive}) EXPECT_TRUE(received_by(frames, conf.handle(i)).empty()) << i;
  // No stream at all for a speaker that receives nothing: just the common one.
  EXPECT_EQ(frames.size(), 1u);
  const OutputFrame& common = frames[0];
  EXPECT_TRUE(contributes(common, conf.handle(deaf)));
  EXPECT_TRUE(contributes(common, conf.handle(sendonly)));
  EXPECT_FALSE(contributes(common, conf.handle(muted)));
  EXPECT_GT(conf.amplitude(common.stream, 500), 2000);
  EXPECT_GT(conf.amplitude(common.stream, 1100), 2000);
  for (double hz : {300.0, 700.0, 900.0, 1300.0}) EXPECT_LT(conf.amplitude(common.stream, hz), 150) << hz;

  // Unmute: the participant is heard again.
  ASSERT_EQ(conf.mixer->set_muted(conf.handle(muted), false), MixerStatus::Ok);
  conf.run(12);
  EXPECT_TRUE(conf.mixer->is_speaker(conf.handle(muted)));
  EXPECT_GT(conf.amplitude(OutputStreamId::common(0), 300), 2000);
}

// --- routing, markers, contributors, timestamps ---

TEST(ConferenceMixer, SpeakersGetTheirMixMinusListenersShareOneCommonStream) {
  TestConference conf(g711_config());
  const auto a = conf.add({.tone_hz = 440});
  const auto b = conf.add({.tone_hz = 1000});
  std::vector<std::size_t> listeners;
  for (int i = 0; i < 5; ++i) listeners.push_back(conf.add({}));
  conf.run(4);
  const auto frames = conf.step();
  ASSERT_EQ(frames.size(), 3u);  // two mix-minus + one common
  const OutputFrame* mm_a = find_frame(frames, OutputStreamId::mix_minus(conf.handle(a)));
  const OutputFrame* common = find_frame(frames, OutputStreamId::common(0));
  ASSERT_NE(mm_a, nullptr);
  ASSERT_NE(common, nullptr);
  EXPECT_EQ(mm_a->listeners.size(), 1u);
  EXPECT_TRUE(listens_to(*mm_a, conf.handle(a)));
  EXPECT_EQ(common->listeners.size(), listeners.size());
  for (auto l : listeners) EXPECT_TRUE(listens_to(*common, conf.handle(l)));
  // CSRCs: the common stream names both speakers; a's mix-minus only b.
  EXPECT_EQ(common->contributors.size(), 2u);
  ASSERT_EQ(mm_a->contributors.size(), 1u);
  EXPECT_EQ(mm_a->contributors[0].participant, conf.handle(b));
  EXPECT_LE(mm_a->contributors[0].level_dbov, 20);
  // One RTP clock for every stream: the same offset in the same tick.
  EXPECT_EQ(mm_a->rtp_timestamp, common->rtp_timestamp);
  EXPECT_EQ(common->rtp_timestamp, 4u * 160u);
  EXPECT_EQ(common->payload.size(), 160u);
  EXPECT_EQ(common->payload_type, 0);
  EXPECT_EQ(common->codec, Codec::Pcmu);
}

TEST(ConferenceMixer, MarkerOnStreamStartsAndWhenAListenerSwitchesStreams) {
  ConferenceConfig config = g711_config();
  config.hold_ms = 60;  // 3 ticks
  TestConference conf(config);
  const auto talker = conf.add({.tone_hz = 440});
  conf.add({});
  auto frames = conf.step();
  // Tick 1: talker selected: its mix-minus stream starts with a marker; the
  // common stream's first frame too.
  const OutputFrame* mm = find_frame(frames, OutputStreamId::mix_minus(conf.handle(talker)));
  ASSERT_NE(mm, nullptr);
  EXPECT_TRUE(mm->marker);
  EXPECT_EQ(mm->frame_index, 0u);
  ASSERT_NE(find_frame(frames, OutputStreamId::common(0)), nullptr);
  EXPECT_TRUE(find_frame(frames, OutputStreamId::common(0))->marker);
  frames = conf.step();
  EXPECT_FALSE(find_frame(frames, OutputStreamId::mix_minus(conf.handle(talker)))->marker);
  EXPECT_FALSE(find_frame(frames, OutputStreamId::common(0))->marker);
  EXPECT_EQ(find_frame(frames, OutputStreamId::mix_minus(conf.handle(talker)))->frame_index, 1u);
  // The talker stops: after the hangover it moves back to the common stream,
  // whose next frame carries the marker.
  conf.set_tone(talker, 0);
  bool switched = false;
  for (int i = 0; i < 6 && !switched; ++i) {
    frames = conf.step();
    const OutputFrame* common = find_frame(frames, OutputStreamId::common(0));
    ASSERT_NE(common, nullptr);
    if (listens_to(*common, conf.handle(talker))) {
      switched = true;
      EXPECT_TRUE(common->marker);
      EXPECT_EQ(find_frame(frames, OutputStreamId::mix_minus(conf.handle(talker))), nullptr);
    } else {
      EXPECT_FALSE(common->marker);
    }
  }
  EXPECT_TRUE(switched);
  frames = conf.step();
  EXPECT_FALSE(find_frame(frames, OutputStreamId::common(0))->marker);
}

TEST(ConferenceMixer, GroupsByCodecAndPayloadType) {
  ConferenceConfig config = g711_config();
  config.codecs = {Codec::Pcmu, Codec::Pcma, Codec::Opus};
  TestConference conf(config);
  conf.add({.tone_hz = 440});
  const auto pcmu = conf.add({});
  const auto pcma = conf.add({.codec = Codec::Pcma});
  const auto opus111 = conf.add({.codec = Codec::Opus, .payload_type = 111});
  const auto opus96 = conf.add({.codec = Codec::Opus, .payload_type = 96});
  conf.run(12);
  const auto frames = conf.step();
  EXPECT_EQ(frames.size(), 5u);  // the speaker's mix-minus + four common streams
  for (auto [i, codec, pt] : {std::tuple{pcmu, Codec::Pcmu, 0}, {pcma, Codec::Pcma, 8}, {opus111, Codec::Opus, 111},
                              {opus96, Codec::Opus, 96}}) {
    const auto got = received_by(frames, conf.handle(i));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]->stream.kind, OutputStreamId::Kind::Common);
    EXPECT_EQ(got[0]->codec, codec);
    EXPECT_EQ(got[0]->payload_type, pt);
    EXPECT_EQ(got[0]->listeners.size(), 1u);
    EXPECT_GT(conf.amplitude(got[0]->stream, 440), 2000);
  }
}

// --- the two policies side by side ---

TEST(ConferenceMixer, SharedStreamsDecodesSpeakersOnlyEveryParticipantDecodesAll) {
  for (Policy policy : {Policy::SharedStreams, Policy::EveryParticipant}) {
    ConferenceConfig config = g711_config(32);
    config.policy = policy;
    TestConference conf(config);
    conf.add({.tone_hz = 440});
    conf.add({.tone_hz = 1000});
    for (int i = 0; i < 8; ++i) conf.add({.amplitude = 0});
    conf.run(5);
    const auto decodes_before = conf.mixer->stats().decodes;
    const auto encodes_before = conf.mixer->stats().encodes;
    const auto frames = conf.step();
    const auto decodes = conf.mixer->stats().decodes - decodes_before;
    const auto encodes = conf.mixer->stats().encodes - encodes_before;
    if (policy == Policy::SharedStreams) {
      EXPECT_EQ(decodes, 2u);
      EXPECT_EQ(encodes, 3u);
      EXPECT_EQ(frames.size(), 3u);
    } else {
      EXPECT_EQ(decodes, 10u);
      EXPECT_EQ(encodes, 10u);
      EXPECT_EQ(frames.size(), 10u);
      for (const OutputFrame& f : frames) {
        EXPECT_EQ(f.stream.kind, OutputStreamId::Kind::MixMinus);
        EXPECT_EQ(f.listeners.size(), 1u);
      }
    }
  }
}

TEST(ConferenceMixer, RemovingASpeakerMidConferenceFreesItsSeat) {
  ConferenceConfig config = g711_config();
  config.max_speakers = 1;
  config.hold_ms = 0;
  TestConference conf(config);
  const auto a = conf.add({.tone_hz = 440});
  const auto b = conf.add({.tone_hz = 1000});
  conf.set_extension_level(b, 30);
  conf.set_extension_level(a, 10);
  conf.run(3);
  ASSERT_TRUE(conf.mixer->is_speaker(conf.handle(a)));
  ASSERT_EQ(conf.mixer->remove_participant(conf.handle(a)), MixerStatus::Ok);
  conf.senders[a].options.direction = Direction::Inactive;  // the harness stops sending it
  conf.step();
  EXPECT_TRUE(conf.mixer->is_speaker(conf.handle(b)));
  EXPECT_EQ(conf.mixer->speaker_slots().size(), 1u);
}

}  // namespace
}  // namespace mrfp::mixer::test
