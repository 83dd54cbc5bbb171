// The per-tick path allocates nothing: push() and tick() are run with every
// C++ allocation counted (global operator new replaced in this executable),
// through speaker changes, mute/deaf/hold, removals and re-adds of slots.
// Under AddressSanitizer (which owns operator new) the test is skipped.
#include <gtest/gtest.h>

#include "conference_harness.h"
#include "count_allocations.h"

namespace mrfp::mixer::test {
namespace {

using mrfp::test::CountAllocations;

int* volatile escaped = nullptr;

TEST(ConferenceNoAllocation, TheCounterSeesAnAllocation) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces operator new";
#endif
  std::size_t counted = 0;
  {
    CountAllocations guard;
    escaped = new int(7);
    counted = guard.count();
  }
  delete escaped;
  EXPECT_EQ(counted, 1u);
}

TEST(ConferenceNoAllocation, PushAndTickNeverAllocate) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces operator new";
#endif
  for (Policy policy : {Policy::SharedStreams, Policy::EveryParticipant}) {
    ConferenceConfig config;
    config.max_participants = 12;
    config.codecs = {Codec::Pcmu, Codec::Opus};
    config.max_speakers = 2;
    config.hold_ms = 40;
    config.policy = policy;
    TestConference conf(config);
    const auto a = conf.add({.tone_hz = 440});
    const auto b = conf.add({.codec = Codec::Opus, .tone_hz = 1000});
    const auto c = conf.add({.codec = Codec::Opus, .tone_hz = 1500, .with_extension = false});
    const auto d = conf.add({});
    conf.add({.codec = Codec::Opus});
    // Warm up: groups exist, every slot that will be used has its chain.
    conf.run(3);
    ASSERT_EQ(conf.mixer->remove_participant(conf.handle(d)), MixerStatus::Ok);
    conf.senders[d].options.direction = Direction::Inactive;
    const auto d2 = conf.mixer->add_participant({Codec::Pcmu, 0});  // same slot, same codec: reused
    ASSERT_EQ(d2.status, MixerStatus::Ok);

    // What the dataplane does per packet and per tick, counted. The harness's
    // own sender encoders run outside the counted region.
    for (int t = 0; t < 40; ++t) {
      if (t == 10) conf.set_tone(a, 0);                          // a falls silent: seat changes
      if (t == 15) {
        ASSERT_EQ(conf.mixer->set_muted(conf.handle(b), true), MixerStatus::Ok);
      }
      if (t == 20) {
        ASSERT_EQ(conf.mixer->set_deaf(conf.handle(c), true), MixerStatus::Ok);
      }
      if (t == 25) {
        ASSERT_EQ(conf.mixer->set_on_hold(conf.handle(c), true), MixerStatus::Ok);
      }
      if (t == 30) {
        ASSERT_EQ(conf.mixer->set_muted(conf.handle(b), false), MixerStatus::Ok);
        conf.set_tone(a, 700);
      }
      // Push and tick, counting only the mixer's calls.
      std::vector<RtpPacketInfo> packets;
      std::vector<std::vector<std::uint8_t>> payloads;
      for (auto& s : conf.senders) {
        if (!sends_to_mixer(s.options.direction)) continue;
        s.tone->fill(s.pcm);
        std::array<std::uint8_t, kMaxEncodedFrameBytes> out{};
        const EncodeResult r = s.encoder->encode(s.pcm, out);
        payloads.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.bytes));
      }
      packets.reserve(payloads.size());
      std::size_t k = 0;
      for (auto& s : conf.senders) {
        if (!sends_to_mixer(s.options.direction)) continue;
        RtpPacketInfo p;
        p.sequence = s.sequence++;
        p.timestamp = s.timestamp;
        s.timestamp += static_cast<std::uint32_t>(samples_per_frame(rtp_clock_rate(s.options.codec), 20));
        p.payload = payloads[k++];
        if (s.options.with_extension) p.audio_level = AudioLevel{compute_audio_level(s.pcm), true};
        packets.push_back(p);
      }
      std::size_t frames = 0;
      std::size_t counted = 0;
      {
        CountAllocations guard;
        k = 0;
        for (auto& s : conf.senders) {
          if (!sends_to_mixer(s.options.direction)) continue;
          conf.mixer->push(s.handle, packets[k++]);
        }
        frames = conf.mixer->tick().size();
        counted = guard.count();
      }
      ASSERT_EQ(counted, 0u) << "tick " << t << " allocated";
      ASSERT_GT(frames, 0u);
    }
  }
}

}  // namespace
}  // namespace mrfp::mixer::test
