// TR 33.829 §5.1.3: rekeying when participants join or leave must not break
// the call. 50 participants stream while the group key changes 20 times, and
// while 100 others join and leave: nothing lost, nothing fails authentication.
#include <gtest/gtest.h>

#include <array>

#include "e2e/conference_harness.h"

namespace mrfp {
namespace {

constexpr int kParticipants = 50;
constexpr std::array<double, 3> kTalkerTones = {450, 850, 1300};

class UnderLoad : public ::testing::TestWithParam<bool /*with MKI*/> {
 protected:
  void start_conference(std::uint16_t first_port) {
    dataplane_ = std::make_unique<dataplane::Dataplane>(e2e::loopback_options(first_port, 256));
    dataplane_->start();
    dataplane::ConferenceSpec spec;
    spec.codecs = {mixer::Codec::Pcmu};
    spec.speakers = 3;
    spec.group_key = key(0);
    auto conference = dataplane_->create_conference(spec);
    ASSERT_TRUE(conference) << conference.error().message;
    conference_ = conference->id;
    for (std::uint32_t i = 0; i < kParticipants; ++i) {
      const double tone = i < kTalkerTones.size() ? kTalkerTones[i] : 2000 + 10.0 * i;
      peers_.push_back(e2e::add_peer(*dataplane_, conference_, mixer::Codec::Pcmu, 0x5000 + i, tone, key(0)));
    }
  }
  void TearDown() override {
    if (dataplane_) dataplane_->stop();
  }

  srtp::MasterKey key(std::uint64_t generation) const {
    const std::uint8_t mki[] = {0x4B, static_cast<std::uint8_t>(generation)};
    return GetParam() ? sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 1000 + generation, mki)
                      : sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 1000 + generation);
  }

  static bool talks(std::size_t index, int) { return index < kTalkerTones.size(); }

  // Every peer: nothing lost on any stream it received, nothing failed to
  // decrypt, and the talkers it should hear are there in the last second.
  void expect_everyone_heard_everything() {
    auto stats = dataplane_->conference_stats(conference_);
    ASSERT_TRUE(stats);
    for (const auto& p : stats->participants) {
      EXPECT_EQ(p.counters.drop_auth_failed, 0u) << "participant " << p.id;
      EXPECT_EQ(p.counters.drop_replayed + p.counters.drop_too_old, 0u) << "participant " << p.id;
    }
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      const auto& peer = *peers_[i].sim;
      SCOPED_TRACE("peer " + std::to_string(i));
      EXPECT_EQ(peer.auth_failures(), 0u);
      EXPECT_EQ(peer.lost(), 0u);
      EXPECT_GT(peer.received(), 0u);
      for (std::size_t t = 0; t < kTalkerTones.size(); ++t) {
        if (t == i) continue;
        EXPECT_GT(peer.received_tone_power(kTalkerTones[t], 8000), 0.003) << "tone " << kTalkerTones[t];
      }
    }
  }

  std::unique_ptr<dataplane::Dataplane> dataplane_;
  dataplane::ConferenceId conference_ = 0;
  std::vector<e2e::Peer> peers_;
};

TEST_P(UnderLoad, TwentyRekeysLoseNothing) {
  start_conference(GetParam() ? 45000 : 50000);
  int generation = 0;
  e2e::run_frames(peers_, 25 + 20 * 6 + 25, talks, [&](int frame) {
    if (frame < 25 || frame >= 25 + 20 * 6 || (frame - 25) % 6 != 0) return;
    const auto next = key(static_cast<std::uint64_t>(++generation));
    // As the KMS does it: every member holds the new key before the mixer
    // switches; then each sender switches at its own packet boundary.
    for (auto& peer : peers_) peer.sim->add_receive_key(next);
    auto rekeyed = dataplane_->rekey_conference(conference_, next);
    ASSERT_TRUE(rekeyed) << rekeyed.error().message;
    EXPECT_FALSE(rekeyed->first_new_seq_by_ssrc.empty());
    for (auto& peer : peers_) peer.sim->switch_send_key(next);
  });
  EXPECT_EQ(generation, 20);
  expect_everyone_heard_everything();
}

TEST_P(UnderLoad, HundredJoinsAndLeavesDisturbNobody) {
  start_conference(GetParam() ? 55000 : 60000);
  int joined = 0;
  std::vector<e2e::Peer> transient;
  e2e::run_frames(peers_, 150, talks, [&](int frame) {
    if (frame < 20 || joined >= 100) return;
    // One joins and one leaves on most frames; each newcomer sends one frame.
    for (int k = 0; k < 2 && joined < 100; ++k) {
      transient.push_back(e2e::add_peer(*dataplane_, conference_, mixer::Codec::Pcmu,
                                        0x9000 + static_cast<std::uint32_t>(joined), 3000, key(0)));
      transient.back().sim->send_frame(false);
      ++joined;
    }
    while (transient.size() > 3) {
      auto removed = dataplane_->remove_participant(conference_, transient.front().id);
      ASSERT_TRUE(removed) << removed.error().message;
      transient.erase(transient.begin());
    }
  });
  EXPECT_EQ(joined, 100);
  expect_everyone_heard_everything();
}

INSTANTIATE_TEST_SUITE_P(Keys, UnderLoad, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) { return param.param ? "WithMki" : "WithoutMki"; });

}  // namespace
}  // namespace mrfp
