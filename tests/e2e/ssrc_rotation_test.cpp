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
  auto conference = dataplane.create_conference(e2e::conference_spec(mixer::Codec::Pcmu, key));
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

// RFC 3550 §8.2: a participant whose signalled SSRC is one of the mixer's own
// output SSRCs is admitted, and the mixer's stream moves to a fresh SSRC.
// Listeners of that stream play through the move; the newcomer is heard.
TEST(SsrcRotation, AParticipantDeclaringAnOutputSsrcIsAdmittedAndTheStreamMoves) {
  dataplane::Dataplane dataplane(e2e::loopback_options(38000, 16));
  dataplane.start();
  const auto key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 6);
  auto conference = dataplane.create_conference(e2e::conference_spec(mixer::Codec::Pcmu, key));
  ASSERT_TRUE(conference);
  ASSERT_FALSE(conference->output_streams.empty());
  const std::uint32_t taken = conference->output_streams.front().ssrc;  // the common PCMU stream

  std::vector<e2e::Peer> peers;
  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, 0x100, 800, key));
  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, 0x200, 1700, key));
  e2e::run_frames(peers, 50, [](std::size_t i, int) { return i == 0; });
  ASSERT_TRUE(peers[1].sim->streams().contains(taken)) << "the listener hears the common stream";

  peers.push_back(e2e::add_peer(dataplane, conference->id, mixer::Codec::Pcmu, taken, 2500, key));
  ASSERT_NE(peers[2].id, 0u) << "the participant was refused";
  // What the stream sent before it moved may still be on its way: let it arrive.
  e2e::run_frames(peers, 5, [](std::size_t i, int) { return i == 0; });
  const std::size_t taken_packets_before = peers[1].sim->streams().at(taken).packets;
  e2e::run_frames(peers, 100, [](std::size_t i, int frame) { return i == 0 || (i == 2 && frame >= 50); });

  auto stats = dataplane.conference_stats(conference->id);
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->counters.ssrc_rotations, 1u);
  for (const auto& participant : stats->participants) {
    SCOPED_TRACE("participant " + std::to_string(participant.id));
    EXPECT_EQ(participant.counters.drop_auth_failed, 0u);
    EXPECT_EQ(participant.counters.drop_ssrc_mismatch, 0u);
  }
  // Nothing went out under the participant's SSRC after it joined: only its own packets carry it.
  EXPECT_EQ(peers[1].sim->streams().at(taken).packets, taken_packets_before);
  EXPECT_FALSE(peers[2].sim->streams().contains(taken));
  for (std::size_t i = 1; i < peers.size(); ++i) {
    SCOPED_TRACE("listener " + std::to_string(i));
    EXPECT_EQ(peers[i].sim->auth_failures(), 0u);
    EXPECT_GT(peers[i].sim->received_tone_power(800, 8000), 0.01);
  }
  EXPECT_GT(peers[1].sim->received_tone_power(2500, 4000), 0.01) << "the newcomer, under its own SSRC, is heard";
  dataplane.stop();
}

}  // namespace
}  // namespace mrfp
