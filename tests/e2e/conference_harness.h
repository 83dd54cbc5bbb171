// A conference on the socket backend over loopback with libsrtp2 peers: what
// the end-to-end tests share.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/peer/sim_participant.h"
#include "dataplane/dataplane.h"

namespace mrfp::e2e {

struct Peer {
  std::unique_ptr<sim::SimParticipant> sim;
  dataplane::ParticipantId id = 0;
  dataplane::Endpoint local;  // the mixer's port for it
};

inline dataplane::DataplaneOptions loopback_options(std::uint16_t first_port, std::uint32_t max_participants,
                                                    dataplane::SrtpEngineKind engine =
                                                        dataplane::SrtpEngineKind::IpsecMb,
                                                    const std::string& host = "127.0.0.1") {
  dataplane::DataplaneOptions options;
  options.media_address = host;
  options.port_min = first_port;
  options.port_max = static_cast<std::uint16_t>(first_port + 4999);
  options.max_participants_per_conference = max_participants;
  options.srtp_engine = engine;
  return options;
}

constexpr std::uint8_t default_payload_type(mixer::Codec codec) {
  return codec == mixer::Codec::Opus ? 111 : (codec == mixer::Codec::Pcma ? 8 : 0);
}

// A conference of one codec under `group_key`, everything else defaulted.
inline dataplane::ConferenceSpec conference_spec(mixer::Codec codec, const srtp::MasterKey& group_key) {
  dataplane::ConferenceSpec spec;
  spec.codecs = {codec};
  spec.group_key = group_key;
  return spec;
}

// Adds a participant with a declared SSRC (or latching when declare is false)
// whose peer sends `tone_hz` under `send_key` and listens under `group_key`.
inline Peer add_peer(dataplane::Dataplane& dataplane, dataplane::ConferenceId conference, mixer::Codec codec,
                     std::uint32_t ssrc, double tone_hz, const srtp::MasterKey& group_key,
                     std::uint8_t level_ext_id = 1, bool declare = true,
                     const std::string& host = "127.0.0.1") {
  sim::ParticipantConfig config{.codec = codec, .payload_type = default_payload_type(codec), .ssrc = ssrc,
                                .tone_hz = tone_hz, .level_ext_id = level_ext_id, .send_key = group_key,
                                .receive_key = group_key, .bind_host = host};
  Peer peer{std::make_unique<sim::SimParticipant>(config), 0, {}};
  dataplane::ParticipantSpec spec;
  spec.conference = conference;
  spec.codec = codec;
  spec.payload_type = config.payload_type;
  if (declare) spec.declared_ssrc = ssrc;
  spec.audio_level_ext_id = level_ext_id;
  spec.remote = dataplane::Endpoint::parse(host, peer.sim->local_port());
  auto added = dataplane.add_participant(spec);
  EXPECT_TRUE(added) << added.error().message;
  if (!added) return peer;
  peer.id = added->id;
  peer.local = added->local;
  peer.sim->set_mixer_endpoint(added->local.address);
  return peer;
}

// Paces every peer at 20 ms for `frames` frames, receiving as it goes;
// `between(frame)` runs after each frame is sent (rekeys, joins, bad packets).
inline void run_frames(std::vector<Peer>& peers, int frames, const std::function<bool(std::size_t, int)>& talking,
                       const std::function<void(int)>& between = {}) {
  auto next = std::chrono::steady_clock::now();
  for (int frame = 0; frame < frames; ++frame) {
    for (std::size_t i = 0; i < peers.size(); ++i) peers[i].sim->send_frame(talking(i, frame));
    if (between) between(frame);
    next += std::chrono::milliseconds(20);
    std::this_thread::sleep_until(next);
    for (auto& peer : peers) peer.sim->receive_available();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& peer : peers) peer.sim->receive_available();
}

}  // namespace mrfp::e2e
