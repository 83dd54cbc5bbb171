// The whole conference through DPDK: the lead's Dataplane with a backend_factory
// handing each worker a DpdkBackend on a net_ring port. Three participants' SRTP
// is made by libsrtp2 (SimParticipant::make_packet), wrapped in Ethernet/IPv4/UDP
// by the test and injected through the ring; what the mixer sends back is
// unwrapped, decrypted with libsrtp2 and decoded. Each participant must hear the
// other two tones and not its own (the socket-backend twin: tests/e2e).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/peer/libsrtp_session.h"
#include "bench/peer/sim_audio.h"
#include "bench/peer/sim_participant.h"
#include "dataplane/dataplane.h"
#include "dpdk/dpdk_test_support.h"

namespace mrfp::dataplane::test {
namespace {

// One participant as the network sees it: an address and MAC on the mixer's
// link, libsrtp2 on both directions, and the audio it heard.
struct Peer {
  std::unique_ptr<sim::SimParticipant> sim;  // makes the outgoing SRTP
  packet::Ipv4Address ip{};
  packet::MacAddress mac{};
  std::uint16_t port = 0;        // its RTP port
  std::uint16_t mixer_port = 0;  // where the mixer listens for it
  mixer::Codec codec = mixer::Codec::Pcmu;
  std::unique_ptr<sim::LibsrtpSession> inbound;
  std::vector<std::int16_t> audio;
  std::map<std::uint32_t, std::uint16_t> last_seq;
  std::uint64_t received = 0, lost = 0, auth_failures = 0, rtcp = 0, wrong_source_port = 0;

  void receive(std::span<const std::uint8_t> bytes) {
    std::vector<std::uint8_t> buffer(bytes.begin(), bytes.end());
    buffer.resize(bytes.size() + SRTP_MAX_TRAILER_LEN);
    const int n = static_cast<int>(bytes.size());
    if (n >= 2 && buffer[1] >= 192 && buffer[1] <= 223) {  // RFC 5761 §4: RTCP
      rtcp += inbound->unprotect_rtcp(buffer.data(), n) >= 0;
      return;
    }
    const int length = inbound->unprotect(buffer.data(), n);
    if (length < 12) {
      ++auth_failures;
      return;
    }
    ++received;
    const std::uint16_t seq = packet::load_be16(&buffer[2]);
    const std::uint32_t ssrc = packet::load_be32(&buffer[8]);
    if (auto last = last_seq.find(ssrc); last != last_seq.end()) {
      const auto delta = static_cast<std::uint16_t>(seq - last->second);
      if (delta > 0 && delta < 0x8000) lost += delta - 1u;
    }
    last_seq[ssrc] = seq;
    // RFC 3550 §5.1: fixed header, CSRCs, extension, padding.
    std::size_t header = 12 + 4u * (buffer[0] & 0x0F);
    if ((buffer[0] & 0x10) && static_cast<std::size_t>(length) >= header + 4) {
      header += 4 + 4u * packet::load_be16(&buffer[header + 2]);
    }
    std::size_t end = static_cast<std::size_t>(length);
    if ((buffer[0] & 0x20) && end > header) end -= buffer[end - 1];
    for (std::size_t i = header; i < end; ++i) {
      audio.push_back(codec == mixer::Codec::Pcma ? sim::linear_from_pcma(buffer[i]) : sim::linear_from_pcmu(buffer[i]));
    }
  }

  double tone_power(double hz) const {
    std::span<const std::int16_t> last_second(audio);
    if (last_second.size() > 8000) last_second = last_second.last(8000);
    return sim::tone_power(last_second, hz, 8000);
  }
};

struct Case {
  mixer::Codec codec;
  srtp::Suite suite;
  SrtpEngineKind engine;
  unsigned workers = 1;  // 2: the conference lands on worker 1, its media on queue 0 (handoff)
};

class DpdkConference : public ::testing::TestWithParam<Case> {
 protected:
  // The network side of the test: answers the mixer's ARP requests for the peers
  // and hands each UDP frame to the peer it is addressed to.
  void drain_network(std::vector<Peer>& peers, const packet::MacAddress& mixer_mac) {
    for (const auto& frame : ring.drain()) {
      const auto ethernet = packet::parse_ethernet(frame);
      ASSERT_TRUE(ethernet);
      EXPECT_EQ(ethernet->source, mixer_mac);
      if (ethernet->ether_type == packet::ether_type::kArp) {
        const auto arp = packet::parse_arp(ethernet->payload);
        ASSERT_TRUE(arp);
        for (const Peer& peer : peers) {
          if (arp->operation == packet::ArpOperation::Request && arp->target_ip == peer.ip) {
            ring.inject(arp_frame(packet::ArpOperation::Reply, peer.mac, peer.ip, mixer_mac, kMixerIp, mixer_mac));
          }
        }
        ++arp_requests;
        continue;
      }
      const auto udp = packet::parse_udp_frame(frame, true);
      if (!udp) {
        ++bad_frames;
        continue;
      }
      bool delivered = false;
      for (Peer& peer : peers) {
        if (udp->ip.destination_v4 == peer.ip && udp->udp.destination_port == peer.port) {
          EXPECT_EQ(udp->ethernet.destination, peer.mac);
          EXPECT_EQ(udp->ip.source_v4, kMixerIp);
          peer.wrong_source_port += udp->udp.source_port != peer.mixer_port;
          peer.receive(udp->udp.payload);
          delivered = true;
        }
      }
      unaddressed += !delivered;
    }
  }

  RingPort ring{GetParam().workers};
  std::uint64_t arp_requests = 0, bad_frames = 0, unaddressed = 0;
};

TEST_P(DpdkConference, EachSpeakerHearsTheOthersAndNotItself) {
  const auto [codec, suite, engine, workers] = GetParam();
  DpdkPortConfig port_config = ring.config();
  port_config.queues = workers;
  port_config.idle_sleep_us = 100;  // the worker shares CPU 0 with this thread (-l 0)
  auto port = DpdkPort::open(port_config);
  ASSERT_TRUE(port) << port.error().message;
  const packet::MacAddress mixer_mac = port.value()->addressing().mac;

  DataplaneOptions options;
  options.media_address = "198.18.0.1";
  options.port_min = 31000;
  options.port_max = 31999;
  options.max_participants_per_conference = 64;
  options.srtp_engine = engine;
  options.workers = workers;
  std::vector<const DpdkBackend*> backends(workers);  // the workers'; read only once they have stopped
  options.backend_factory = [factory = dpdk_backend_factory(port.value()), &backends](unsigned worker) {
    auto made = factory(worker);
    backends.at(worker) = static_cast<const DpdkBackend*>(made.get());
    return made;
  };
  Dataplane dataplane(options);
  dataplane.start();

  const auto group_key = sim::make_key(suite, 1234);
  ConferenceSpec spec;
  spec.codecs = {codec};
  spec.speakers = 3;
  spec.group_key = group_key;
  // With two workers an idle first conference takes worker 0, so ours lands on worker 1
  // while the test feeds queue 0: every packet crosses the handoff ring.
  if (workers > 1) {
    ASSERT_TRUE(dataplane.create_conference(spec));
  }
  auto conference = dataplane.create_conference(spec);
  ASSERT_TRUE(conference) << conference.error().message;

  const double tones[] = {500, 900, 1400};
  const std::uint8_t payload_type = codec == mixer::Codec::Pcma ? 8 : 0;
  std::vector<Peer> peers(3);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    Peer& peer = peers[i];
    peer.codec = codec;
    peer.ip = {198, 18, 0, static_cast<std::uint8_t>(10 + i)};
    peer.mac = {0x02, 0x00, 0x00, 0x00, 0x10, static_cast<std::uint8_t>(i)};
    peer.port = static_cast<std::uint16_t>(40000 + 2 * i);
    sim::ParticipantConfig config{.codec = codec, .payload_type = payload_type,
                                  .ssrc = 0x10000u + static_cast<std::uint32_t>(i), .tone_hz = tones[i],
                                  .level_ext_id = 1, .send_key = group_key, .receive_key = group_key};
    peer.sim = std::make_unique<sim::SimParticipant>(config);
    peer.inbound = std::make_unique<sim::LibsrtpSession>(group_key, sim::LibsrtpSession::Direction::Inbound);
    ParticipantSpec p;
    p.conference = conference->id;
    p.codec = codec;
    p.payload_type = payload_type;
    p.declared_ssrc = config.ssrc;
    p.audio_level_ext_id = 1;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, peer.ip.data(), text, sizeof text);
    p.remote = Endpoint::parse(text, peer.port);
    auto added = dataplane.add_participant(p);
    ASSERT_TRUE(added) << added.error().message;
    peer.mixer_port = ntohs(reinterpret_cast<const sockaddr_in*>(&added->local.address)->sin_port);
  }

  // 2 s of talk at the 20 ms frame pace, everything through the ring.
  auto next = std::chrono::steady_clock::now();
  for (int frame = 0; frame < 100; ++frame) {
    for (Peer& peer : peers) {
      const std::vector<std::uint8_t> srtp = peer.sim->make_packet(true);
      ring.inject(udp_frame(mixer_mac, peer.mac, peer.ip, peer.port, kMixerIp, peer.mixer_port, srtp));
    }
    next += std::chrono::milliseconds(20);
    std::this_thread::sleep_until(next);
    drain_network(peers, mixer_mac);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  drain_network(peers, mixer_mac);

  const auto stats = dataplane.conference_stats(conference->id);
  ASSERT_TRUE(stats);
  const std::vector<WorkerStats> worker_stats = dataplane.worker_stats();
  dataplane.stop();
  drain_network(peers, mixer_mac);  // BYEs

  EXPECT_EQ(bad_frames, 0u) << "frames the project's parsers (UDP checksum included) refused";
  EXPECT_EQ(unaddressed, 0u);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const Peer& peer = peers[i];
    SCOPED_TRACE("participant " + std::to_string(i));
    EXPECT_EQ(stats->participants[i].counters.drop_auth_failed, 0u);
    EXPECT_GE(peer.received, 90u);
    EXPECT_EQ(peer.auth_failures, 0u);
    EXPECT_EQ(peer.lost, 0u);
    EXPECT_EQ(peer.wrong_source_port, 0u) << "media leaves from the participant's own port";
    for (std::size_t j = 0; j < peers.size(); ++j) {
      const double power = peer.tone_power(tones[j]);
      if (i == j) {
        EXPECT_LT(power, 0.002) << "hears its own tone " << tones[j];
      } else {
        EXPECT_GT(power, 0.005) << "misses tone " << tones[j];
      }
    }
  }
  DpdkCounters total;
  for (const DpdkBackend* backend : backends) {
    ASSERT_NE(backend, nullptr);
    const DpdkCounters& c = backend->counters();
    total.rx_frames += c.rx_frames;
    total.rx_delivered += c.rx_delivered;
    total.rx_arp_replies += c.rx_arp_replies;
    total.rx_handed_off += c.rx_handed_off;
    total.tx_refused += c.tx_refused;
    total.tx_no_mbuf += c.tx_no_mbuf;
  }
  EXPECT_GE(total.rx_delivered, 300u);
  // GetStats and /metrics see the same counters, by name (nothing arrived since).
  std::uint64_t reported_delivered = 0;
  for (const WorkerStats& worker : worker_stats) {
    for (const IoCounter& counter : worker.io) {
      if (std::string_view(counter.name) == "rx_delivered") reported_delivered += counter.value;
    }
  }
  EXPECT_EQ(reported_delivered, total.rx_delivered);
  EXPECT_EQ(total.rx_delivered, total.rx_frames - total.rx_arp_replies);
  if (workers > 1) {
    EXPECT_EQ(backends[0]->counters().rx_delivered, 0u);
    EXPECT_EQ(total.rx_handed_off, total.rx_delivered) << "all media crossed from queue 0 to worker 1";
    // Worker 1 asked for a rule per participant from its own thread; net_ring has no
    // rte_flow, so all three stayed with the hand-off.
    EXPECT_EQ(backends[1]->counters().flow_rules_refused, peers.size());
    EXPECT_EQ(backends[1]->counters().flow_rules_installed, 0u);
  }
  EXPECT_EQ(total.tx_refused, 0u);
  EXPECT_EQ(total.tx_no_mbuf, 0u);
}

// The libsrtp2-engine case first: LibsrtpReference refuses every stream when its
// srtp_init() is not the first of the process (libsrtp2 errs on a second init),
// and the peers' LibsrtpSession calls it too. ctest runs each case in its own
// process; ordered this way the whole binary passes in one process as well.
INSTANTIATE_TEST_SUITE_P(
    Codecs, DpdkConference,
    ::testing::Values(Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_80, SrtpEngineKind::Libsrtp},
                      Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_80, SrtpEngineKind::IpsecMb},
                      Case{mixer::Codec::Pcma, srtp::Suite::AeadAes128Gcm, SrtpEngineKind::IpsecMb},
                      Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_32, SrtpEngineKind::IpsecMb},
                      Case{mixer::Codec::Pcmu, srtp::Suite::AesCm128HmacSha1_80, SrtpEngineKind::IpsecMb, 2}));

}  // namespace
}  // namespace mrfp::dataplane::test
