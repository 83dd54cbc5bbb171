// Output SSRCs are retired before their sequence could wrap, so a libsrtp2
// receiver (which learns the ROC only from what it sees, RFC 3711 §3.3.1)
// never needs one: it plays through every rotation, and a late joiner hears a
// stream whose ROC is 0.
#include <gtest/gtest.h>

#include "e2e/conference_harness.h"

namespace mrfp {
namespace {

TEST(SsrcRotation, ListenersPlayThroughRotationsWithoutLossOrAuthFailure) {
  auto options = e2e::loopback_options(33000, 16);
  options.max_packets_per_output_ssrc = 40;  // a rotation every 0.8 s instead of every 11 min
  dataplane::Dataplane dataplane(options);
  dataplane.start();
  const auto key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 5);
  dataplane::ConferenceSpec spec;
  spec.codecs = {mixer::Codec::Pcmu};
  spec.group_key = key;
  auto conference = dataplane.create_conference(spec);
  ASSERT_TRUE(conference);
  std::vector<e2e::Peer> peers;
  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, 0x100, 800, key));
  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, 0x200, 1700, key));
  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, 0x300, 2500, key));
  const auto talks = [](std::size_t i, int) { return i == 0; };
  e2e::run_frames(peers, 150, talks);
  // A late joiner: streams have rotated several times already.
  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, 0x400, 3100, key));
  e2e::run_frames(peers, 60, talks);

  auto stats = dataplane.conference_stats(conference->id);
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->counters.ssrc_rotations, 5u);
  for (std::size_t i = 1; i < peers.size(); ++i) {
    const auto& peer = *peers[i].sim;
    SCOPED_TRACE("listener " + std::to_string(i));
    EXPECT_EQ(peer.auth_failures(), 0u);
    EXPECT_EQ(peer.lost(), 0u);
    EXPECT_GE(peer.streams().size(), i == 3 ? 1u : 3u) << "expected to hear several SSRCs";
    for (const auto& [ssrc, stream] : peer.streams()) EXPECT_GE(stream.markers, 1u) << "ssrc " << ssrc;
    EXPECT_GT(peer.received_tone_power(800, 8000), 0.01);
  }
  dataplane.stop();
}

}  // namespace
}  // namespace mrfp
