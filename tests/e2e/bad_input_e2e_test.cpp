// Bad input on the socket backend: every kind of bad packet is dropped, counted
// under its own reason, and never reaches the mixer; the good streams beside
// it go on unharmed.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "bench/peer/sim_participant.h"
#include "dataplane/dataplane.h"

namespace mrfp {
namespace {

using namespace std::chrono_literals;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dataplane::DataplaneOptions options;
    options.port_min = 40000;
    options.port_max = 44999;
    options.max_participants_per_conference = 16;
    dataplane_ = std::make_unique<dataplane::Dataplane>(options);
    dataplane_->start();
    dataplane::ConferenceSpec spec;
    spec.codecs = {mixer::Codec::Pcmu};
    spec.group_key = key_;
    auto conference = dataplane_->create_conference(spec);
    ASSERT_TRUE(conference) << conference.error().message;
    conference_ = conference->id;
    talker_ = add(0xA0A0A0A0, 600, true);
    listener_ = add(0xB0B0B0B0, 1000, true);
    latcher_ = add(0xC0C0C0C0, 1500, false);  // declares nothing: latches
  }
  void TearDown() override { dataplane_->stop(); }

  struct Member {
    std::unique_ptr<sim::SimParticipant> peer;
    dataplane::ParticipantId id;
    dataplane::Endpoint local;  // the mixer's port for it
  };

  Member add(std::uint32_t ssrc, double tone, bool declare) {
    sim::ParticipantConfig config{.codec = mixer::Codec::Pcmu, .payload_type = 0, .ssrc = ssrc, .tone_hz = tone,
                                  .send_key = key_, .receive_key = key_};
    auto peer = std::make_unique<sim::SimParticipant>(config);
    dataplane::ParticipantSpec spec;
    spec.conference = conference_;
    spec.payload_type = 0;
    if (declare) spec.declared_ssrc = ssrc;
    spec.remote = dataplane::Endpoint::parse("127.0.0.1", peer->local_port());
    auto added = dataplane_->add_participant(spec);
    EXPECT_TRUE(added) << added.error().message;
    peer->set_mixer_endpoint(added->local.address);
    return {std::move(peer), added->id, added->local};
  }

  dataplane::ParticipantStats stats_of(dataplane::ParticipantId id) {
    auto stats = dataplane_->conference_stats(conference_);
    EXPECT_TRUE(stats);
    for (const auto& p : stats->participants) {
      if (p.id == id) return p;
    }
    ADD_FAILURE() << "no stats for participant " << id;
    return {};
  }

  // The talker streams its tone; `between` injects bad packets every frame.
  void stream(int frames, const std::function<void(int)>& between) {
    auto next = std::chrono::steady_clock::now();
    for (int frame = 0; frame < frames; ++frame) {
      talker_.peer->send_frame(true);
      listener_.peer->send_frame(false);
      between(frame);
      next += 20ms;
      std::this_thread::sleep_until(next);
      listener_.peer->receive_available();
    }
    std::this_thread::sleep_for(150ms);
    listener_.peer->receive_available();
  }

  void expect_listener_heard_only_the_talker() {
    auto& listener = *listener_.peer;
    EXPECT_EQ(listener.auth_failures(), 0u);
    EXPECT_EQ(listener.lost(), 0u);
    EXPECT_GT(listener.received_tone_power(600, 8000), 0.01);
    EXPECT_LT(listener.received_tone_power(1500, 8000), 0.0005);
  }

  srtp::MasterKey key_ = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 99);
  std::unique_ptr<dataplane::Dataplane> dataplane_;
  dataplane::ConferenceId conference_ = 0;
  Member talker_, listener_, latcher_;
};

TEST_F(BadInput, TruncatedAndMalformedPacketsAreCountedAsMalformed) {
  int sent = 0;
  stream(60, [&](int frame) {
    auto packet = talker_.peer->make_packet(true);
    switch (frame % 4) {
      case 0:  // every length shorter than an RTP header
        packet.resize(static_cast<std::size_t>(frame % 12));
        break;
      case 1:  // RTP version 1
        packet[0] = static_cast<std::uint8_t>((packet[0] & 0x3F) | 0x40);
        break;
      case 2:  // 15 CSRCs announced, none there
        packet[0] = static_cast<std::uint8_t>(packet[0] | 0x0F);
        packet.resize(20);
        break;
      case 3:  // an extension longer than the packet
        packet[0] = static_cast<std::uint8_t>(packet[0] | 0x10);
        packet[14] = 0xFF;
        packet[15] = 0xFF;
        break;
    }
    talker_.peer->send_raw(packet);
    ++sent;
  });
  const auto stats = stats_of(talker_.id);
  EXPECT_EQ(stats.counters.drop_malformed, static_cast<std::uint64_t>(sent));
  EXPECT_EQ(stats.counters.drop_auth_failed, 0u);
  expect_listener_heard_only_the_talker();
}

TEST_F(BadInput, FlippedBitsFailAuthenticationAndReplaysAreDropped) {
  std::vector<std::uint8_t> previous;
  int flipped = 0, replayed = 0;
  stream(60, [&](int frame) {
    // The talker's own next packet with one bit flipped somewhere after the header.
    auto packet = talker_.peer->make_packet(true);
    if (!previous.empty()) {
      talker_.peer->send_raw(previous);  // a replay of a packet already accepted
      ++replayed;
    }
    auto forged = packet;
    forged[12 + static_cast<std::size_t>(frame) % (forged.size() - 12)] ^= 0x10;
    talker_.peer->send_raw(forged);
    ++flipped;
    talker_.peer->send_raw(packet);  // the genuine one still gets through
    previous = packet;
  });
  const auto stats = stats_of(talker_.id);
  EXPECT_EQ(stats.counters.drop_auth_failed, static_cast<std::uint64_t>(flipped));
  EXPECT_EQ(stats.counters.drop_replayed + stats.counters.drop_too_old, static_cast<std::uint64_t>(replayed));
  expect_listener_heard_only_the_talker();
}

TEST_F(BadInput, ForeignSsrcsAndForeignSourcesNeverReachTheMixer) {
  // A stranger with the group key, another SSRC, on the talker's socket; and
  // the talker's genuine packets copied from another source address.
  sim::ParticipantConfig stranger_config{.codec = mixer::Codec::Pcmu, .ssrc = 0xDEAD0001, .tone_hz = 1500,
                                         .send_key = key_, .receive_key = key_};
  sim::SimParticipant stranger(stranger_config);
  stranger.set_mixer_endpoint(talker_.local.address);
  int foreign_ssrc = 0, foreign_source = 0;
  stream(50, [&](int) {
    talker_.peer->send_raw(stranger.make_packet(true));
    ++foreign_ssrc;
    stranger.send_raw(talker_.peer->make_packet(true));
    ++foreign_source;
  });
  const auto stats = stats_of(talker_.id);
  EXPECT_EQ(stats.counters.drop_ssrc_mismatch, static_cast<std::uint64_t>(foreign_ssrc));
  EXPECT_EQ(stats.counters.drop_source_mismatch, static_cast<std::uint64_t>(foreign_source));
  expect_listener_heard_only_the_talker();
}

TEST_F(BadInput, LatchingRefusesAnSsrcHeldByAnotherParticipant) {
  // The latching participant sends with the talker's SSRC: a two-time pad
  // under the group key if accepted. Then with its own, which it latches.
  sim::ParticipantConfig impostor_config{.codec = mixer::Codec::Pcmu, .ssrc = 0xA0A0A0A0, .tone_hz = 1500,
                                         .send_key = key_, .receive_key = key_};
  sim::SimParticipant impostor(impostor_config);
  int collisions = 0;
  stream(25, [&](int) {
    latcher_.peer->send_raw(impostor.make_packet(true));
    ++collisions;
  });
  auto stats = stats_of(latcher_.id);
  EXPECT_EQ(stats.counters.drop_ssrc_mismatch, static_cast<std::uint64_t>(collisions));
  auto audit = dataplane_->audit(conference_);
  ASSERT_TRUE(audit);
  for (const auto& p : audit->participants) {
    if (p.id == latcher_.id) {
      EXPECT_FALSE(p.ssrc.has_value());
    }
  }
  stream(10, [&](int) { latcher_.peer->send_frame(false); });
  audit = dataplane_->audit(conference_);
  for (const auto& p : audit->participants) {
    if (p.id == latcher_.id) {
      ASSERT_TRUE(p.ssrc.has_value());
      EXPECT_EQ(*p.ssrc, 0xC0C0C0C0u);
    }
  }
  expect_listener_heard_only_the_talker();
}

}  // namespace
}  // namespace mrfp
