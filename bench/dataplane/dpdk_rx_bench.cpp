// The whole receive path of one worker core through DPDK, without a NIC: a
// net_ring port whose RX ring this program fills (pointer moves only, as
// net_null costs nothing) and whose TX ring it empties. The worker is the real
// one (Dataplane with the DPDK backend): rte_eth_rx_burst, Ethernet/IPv4/UDP
// parse and checksum, port -> participant, SSRC and source checks, one SRTP
// unprotect burst per conference through IPsec-MB, jitter-buffer push, and its
// 20 ms ticks as they fall due. Packets are SRTP made by libsrtp2 beforehand.
//
// It prints packets per second of the worker core next to the reference
// measured in the same run: libsrtp2 unprotecting the same packets alone, one
// call per packet, on this core.
//
//   dpdk_rx_bench [--conferences C] [--participants N] [--frames F] [--rounds R]
//                 [--suite cm|gcm] [--codec pcmu|opus] [--no-checksum]
// Hugepages (2 MB) are used when free (`--in-memory`), else `--no-huge`.
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/peer/libsrtp_session.h"
#include "bench/peer/sim_participant.h"
#include "dataplane/dataplane.h"
#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/dpdk/dpdk_port.h"
#include "dataplane/dpdk/eal.h"
#include "dataplane/packet/udp_frame.h"

namespace mrfp::bench {
namespace {

struct Options {
  std::uint32_t conferences = 10;
  std::uint32_t participants = 1000;  // per conference
  std::uint32_t frames = 20;          // per participant per round; the jitter buffer holds 32
  std::uint32_t rounds = 3;
  srtp::Suite suite = srtp::Suite::AesCm128HmacSha1_80;
  mixer::Codec codec = mixer::Codec::Pcmu;
  bool verify_checksum = true;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      return std::string(argv[++i]);
    };
    if (flag == "--conferences") options.conferences = static_cast<std::uint32_t>(std::stoul(value()));
    else if (flag == "--participants") options.participants = static_cast<std::uint32_t>(std::stoul(value()));
    else if (flag == "--frames") options.frames = static_cast<std::uint32_t>(std::stoul(value()));
    else if (flag == "--rounds") options.rounds = static_cast<std::uint32_t>(std::stoul(value()));
    else if (flag == "--suite") options.suite = value() == "gcm" ? srtp::Suite::AeadAes128Gcm : srtp::Suite::AesCm128HmacSha1_80;
    else if (flag == "--codec") options.codec = value() == "opus" ? mixer::Codec::Opus : mixer::Codec::Pcmu;
    else if (flag == "--no-checksum") options.verify_checksum = false;
    else throw std::invalid_argument("unknown flag " + flag);
  }
  if (options.frames > 30) throw std::invalid_argument("--frames at most 30: the jitter buffer holds 32 frames");
  return options;
}

std::size_t free_hugepage_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::size_t value = 0, free_pages = 0, page_kb = 0;
  while (meminfo >> key >> value) {
    if (key == "HugePages_Free:") free_pages = value;
    if (key == "Hugepagesize:") page_kb = value;
    meminfo.ignore(64, '\n');
  }
  return free_pages * page_kb * 1024;
}

// `perf record -D -1 --control fifo:CTL` with MRFP_PERF_CONTROL=CTL: only the
// measured rounds are sampled, not the set-up.
void perf_control(const char* command) {
  static const char* fifo = std::getenv("MRFP_PERF_CONTROL");
  if (!fifo) return;
  std::ofstream(fifo) << command << '\n';
}

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

const packet::MacAddress kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};
const packet::Ipv4Address kMixerIp = {198, 18, 0, 1};
const packet::Ipv4Address kPeerIp = {198, 19, 0, 2};  // off-link: through the gateway

struct Bench {
  Options options;
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  rte_mempool* pool = nullptr;
  std::shared_ptr<dataplane::DpdkPort> port;
  std::unique_ptr<dataplane::Dataplane> dataplane;
  const dataplane::DpdkBackend* backend = nullptr;  // owned by the worker
  srtp::MasterKey key;
  // SRTP packets, participant-major: [participant][frame].
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<rte_mbuf*> frames;  // this round's, in arrival order
  double ring_full_fraction = 0;  // of the feeder's attempts, last round

  std::uint32_t total_participants() const { return options.conferences * options.participants; }

  void set_up() {
    std::vector<std::string> eal = {"--no-pci", "--no-shconf", "--no-telemetry", "-l", "0,1",
                                    "--log-level", "*:warning"};
    const std::size_t frames_total = static_cast<std::size_t>(total_participants()) * options.frames;
    const std::size_t memory = 1024ull * 1024 * 1024 + frames_total * 1024;
    if (free_hugepage_bytes() >= memory) {
      eal.push_back("--in-memory");
      std::printf("EAL: 2 MB hugepages (--in-memory)\n");
    } else {
      eal.insert(eal.end(), {"--no-huge", "-m", std::to_string(memory >> 20)});
      std::printf("EAL: --no-huge (reserve hugepages for faster figures: echo 1024 > "
                  "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)\n");
    }
    if (auto up = dataplane::init_eal(eal); !up) throw std::runtime_error(up.error().message);
    // The feeder (this thread) on the main lcore's core; the worker pins itself
    // to the next lcore's, so the two never share a core.
    rte_cpuset_t main_core = rte_lcore_cpuset(rte_get_main_lcore());
    rte_thread_set_affinity(&main_core);
    rx = rte_ring_create("bench_rx", 8192, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx = rte_ring_create("bench_tx", 65536, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    const int port_id = rte_eth_from_rings("bench_ring", &rx, 1, &tx, 1, 0);
    if (!rx || !tx || port_id < 0) throw std::runtime_error("net_ring port");
    pool = rte_pktmbuf_pool_create("bench_frames", static_cast<unsigned>(frames_total + 1024), 256, 0, 512,
                                   SOCKET_ID_ANY);
    if (!pool) throw std::runtime_error("mempool for the frames");

    dataplane::DpdkPortConfig config;
    config.port_id = static_cast<std::uint16_t>(port_id);
    config.ipv4_address = "198.18.0.1";
    config.ipv4_prefix_length = 24;
    config.gateway_mac = kPeerMac;  // participants are off-link: no ARP on the measured path
    config.ipv4_gateway = "198.18.0.2";
    config.replication = dataplane::ReplicationMode::Chained;
    config.idle_sleep_us = 0;  // a dedicated core polls
    config.verify_udp_checksum = options.verify_checksum;
    config.mbufs_per_queue = 16384;
    auto opened = dataplane::DpdkPort::open(config);
    if (!opened) throw std::runtime_error(opened.error().message);
    port = opened.value();

    dataplane::DataplaneOptions dataplane_options;
    dataplane_options.media_address = "198.18.0.1";
    dataplane_options.port_min = 10000;
    dataplane_options.port_max = 60000;
    dataplane_options.max_participants_per_conference = options.participants;
    // Keep the worker's backend in sight, for its transmit counters.
    dataplane_options.backend_factory = [this, make = dataplane::dpdk_backend_factory(port)](unsigned worker) {
      auto made = make(worker);
      backend = static_cast<dataplane::DpdkBackend*>(made.get());
      return made;
    };
    dataplane = std::make_unique<dataplane::Dataplane>(dataplane_options);
    dataplane->start();

    key = sim::make_key(options.suite, 42);
    const auto started = std::chrono::steady_clock::now();
    packets.reserve(frames_total);
    for (std::uint32_t p = 0; p < total_participants(); ++p) {
      sim::ParticipantConfig peer_config{.codec = options.codec,
                                         .payload_type = static_cast<std::uint8_t>(
                                             options.codec == mixer::Codec::Opus ? 111 : 0),
                                         .ssrc = 0x10000 + p % options.participants,
                                         .tone_hz = 300.0 + p % options.participants,
                                         .level_ext_id = 1,
                                         .send_key = key,
                                         .receive_key = key};
      sim::SimParticipant peer(peer_config);
      for (std::uint32_t f = 0; f < options.frames; ++f) packets.push_back(peer.make_packet(p % options.participants < 3));
    }
    std::printf("precomputed %zu SRTP packets with libsrtp2 in %.1f s\n", packets.size(),
                seconds(std::chrono::steady_clock::now() - started));
  }

  // New conferences (fresh replay windows) and this round's frames, built untimed.
  std::vector<dataplane::ConferenceId> make_round() {
    std::vector<dataplane::ConferenceId> conferences;
    std::vector<std::uint16_t> local_ports(total_participants());
    for (std::uint32_t c = 0; c < options.conferences; ++c) {
      dataplane::ConferenceSpec spec;
      spec.codecs = {options.codec};
      spec.group_key = key;
      auto created = dataplane->create_conference(spec);
      if (!created) throw std::runtime_error(created.error().message);
      conferences.push_back(created->id);
      for (std::uint32_t m = 0; m < options.participants; ++m) {
        const std::uint32_t p = c * options.participants + m;
        dataplane::ParticipantSpec participant;
        participant.conference = created->id;
        participant.codec = options.codec;
        participant.payload_type = options.codec == mixer::Codec::Opus ? 111 : 0;
        participant.declared_ssrc = 0x10000 + m;
        participant.audio_level_ext_id = 1;
        participant.remote = dataplane::Endpoint::parse("198.19.0.2", static_cast<std::uint16_t>(1024 + p % 60000));
        auto added = dataplane->add_participant(participant);
        if (!added) throw std::runtime_error(added.error().message);
        local_ports[p] = ntohs(reinterpret_cast<const sockaddr_in&>(added->local.address).sin_port);
      }
    }
    frames.clear();
    for (std::uint32_t f = 0; f < options.frames; ++f) {
      for (std::uint32_t p = 0; p < total_participants(); ++p) {
        const auto& payload = packets[static_cast<std::size_t>(p) * options.frames + f];
        packet::UdpFrameHeaderFields fields;
        fields.ethernet.destination = port->addressing().mac;
        fields.ethernet.source = kPeerMac;
        fields.ip.version = packet::IpVersion::V4;
        fields.ip.source_v4 = kPeerIp;
        fields.ip.destination_v4 = kMixerIp;
        fields.source_port = static_cast<std::uint16_t>(1024 + p % 60000);
        fields.destination_port = local_ports[p];
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (!m) throw std::runtime_error("out of frame mbufs");
        auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(64 + payload.size())));
        const auto headers = packet::build_udp_frame_headers(std::span(out, 64 + payload.size()), fields, payload, true);
        if (!headers.ok()) throw std::runtime_error("frame headers");
        std::memcpy(out + headers.length, payload.data(), payload.size());
        rte_pktmbuf_trim(m, static_cast<std::uint16_t>(64 - headers.length));
        frames.push_back(m);
      }
    }
    return conferences;
  }

  void drain_tx() {
    void* burst[256];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(tx, burst, 256, nullptr)) > 0) {
      rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(burst), n);
    }
  }

  // Feeds every frame as fast as the worker takes them; the worker is done
  // when the ring is empty and its counters have them all.
  double run_round(const std::vector<dataplane::ConferenceId>& conferences, dataplane::Counters& counters) {
    perf_control("enable");
    const auto start = std::chrono::steady_clock::now();
    std::size_t next = 0;
    std::uint64_t attempts = 0, found_full = 0;
    while (next < frames.size()) {
      const unsigned want = static_cast<unsigned>(std::min<std::size_t>(256, frames.size() - next));
      const unsigned put = rte_ring_enqueue_burst(rx, reinterpret_cast<void* const*>(&frames[next]), want, nullptr);
      next += put;
      ++attempts;
      found_full += put < want;
      drain_tx();
    }
    // The worker is what is measured only if the ring stays full.
    ring_full_fraction = static_cast<double>(found_full) / static_cast<double>(attempts);
    while (rte_ring_count(rx) != 0) drain_tx();
    const auto end = std::chrono::steady_clock::now();
    perf_control("disable");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the last burst in flight
    drain_tx();
    counters = {};
    for (auto id : conferences) {
      auto stats = dataplane->conference_stats(id);
      if (stats) dataplane::add_counters(counters, stats->counters);
      if (auto deleted = dataplane->delete_conference(id); !deleted) throw std::runtime_error(deleted.error().message);
    }
    drain_tx();
    return seconds(end - start);
  }

  // The reference on this core: libsrtp2 alone, the same packets.
  double libsrtp_seconds() {
    sim::LibsrtpSession receiver(key, sim::LibsrtpSession::Direction::Inbound);
    std::vector<std::uint8_t> buffer(2048);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t f = 0; f < options.frames; ++f) {
      for (std::uint32_t p = 0; p < options.participants; ++p) {  // one conference's SSRCs are unique
        const auto& bytes = packets[static_cast<std::size_t>(p) * options.frames + f];
        std::memcpy(buffer.data(), bytes.data(), bytes.size());
        if (receiver.unprotect(buffer.data(), static_cast<int>(bytes.size())) < 0) {
          throw std::runtime_error("libsrtp2 refused its own packet");
        }
      }
    }
    return seconds(std::chrono::steady_clock::now() - start);
  }
};

int run(int argc, char** argv) {
  Bench bench;
  bench.options = parse(argc, argv);
  bench.set_up();
  const auto& o = bench.options;
  std::printf("%u conferences x %u participants, %u frames each, %s, %s, UDP checksum %s\n", o.conferences,
              o.participants, o.frames, o.codec == mixer::Codec::Opus ? "Opus" : "PCMU",
              o.suite == srtp::Suite::AeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80",
              o.verify_checksum ? "verified in software" : "not verified (as with NIC offload)");
  double best_mpps = 0;
  bool clean = true;
  for (std::uint32_t round = 0; round < o.rounds; ++round) {
    auto conferences = bench.make_round();
    const std::size_t offered = bench.frames.size();
    dataplane::Counters counters;
    const double elapsed = bench.run_round(conferences, counters);
    const double mpps = static_cast<double>(offered) / elapsed / 1e6;
    const std::uint64_t dropped = counters.drop_malformed + counters.drop_unknown_port + counters.drop_ssrc_mismatch +
                                  counters.drop_source_mismatch + counters.drop_auth_failed + counters.drop_replayed;
    std::printf("round %u: %zu frames in %.1f ms: %.2f Mpps (%.0f ns/packet); accepted %llu, dropped %llu, "
                "ticks %llu; feeder found the ring full %.0f%% of the time\n",
                round, offered, elapsed * 1e3, mpps, elapsed * 1e9 / static_cast<double>(offered),
                static_cast<unsigned long long>(counters.rx_packets), static_cast<unsigned long long>(dropped),
                static_cast<unsigned long long>(counters.ticks), 100.0 * bench.ring_full_fraction);
    if (counters.rx_packets != offered || dropped != 0) clean = false;
    best_mpps = std::max(best_mpps, mpps);
  }
  // Read after the runs; the worker is idle by now, so the counters hold still.
  const dataplane::DpdkCounters& tx = bench.backend->counters();
  std::printf("\nticks sent %llu frames to listeners (protected once per output stream, replicated); payload "
              "bytes copied per frame sent: %.2f\n",
              static_cast<unsigned long long>(tx.tx_frames),
              tx.tx_frames ? static_cast<double>(tx.tx_payload_bytes_copied) / static_cast<double>(tx.tx_frames) : 0.0);
  const double reference = static_cast<double>(o.participants) * o.frames / bench.libsrtp_seconds() / 1e6;
  std::printf("\nworker core, whole RX path: %.2f Mpps (best of %u rounds)\n", best_mpps, o.rounds);
  std::printf("libsrtp2 unprotect alone:   %.2f Mpps\nratio: %.1fx   goal: 2 Mpps per core -> %s\n", reference,
              best_mpps / reference, best_mpps >= 2.0 ? "met" : "NOT met");
  bench.dataplane->stop();
  if (!clean) {
    std::printf("FAILED: not every packet was accepted; the figure would be of the wrong path\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace mrfp::bench

int main(int argc, char** argv) {
  try {
    return mrfp::bench::run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "dpdk_rx_bench: %s\n", error.what());
    return 2;
  }
}
