#include "bench/loadgen/memif_transport.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "bench/peer/paced_sender.h"
#include "dataplane/dpdk/eal.h"
#include "dataplane/packet/arp.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/udp_frame.h"

namespace mrfp::loadgen {

namespace {
// 198.18.1.1 upwards to 198.19.255.254: behind us, off mrfpd's /24.
constexpr std::uint32_t kFirstParticipant = 0xC6120101u;
constexpr std::uint32_t kLastParticipant = 0xC613FFFEu;
constexpr std::size_t kHeaders = packet::kEthernetHeaderLength + 20 + packet::kUdpHeaderLength;
constexpr unsigned kPoolMbufs = 32767;
constexpr unsigned kPoolCache = 256;
const char* const kDeviceName = "net_memif0";

packet::Ipv4Address ipv4_of(const std::string& text) {
  packet::Ipv4Address address{};
  if (inet_pton(AF_INET, text.c_str(), address.data()) != 1) throw std::runtime_error("not an IPv4 address: " + text);
  return address;
}

packet::Ipv4Address ipv4_of(in_addr address) {
  packet::Ipv4Address out{};
  std::memcpy(out.data(), &address.s_addr, 4);
  return out;
}

packet::MacAddress mac_of(const std::string& text) {
  packet::MacAddress mac{};
  unsigned b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
    throw std::runtime_error("not a MAC address: " + text);
  }
  for (int i = 0; i < 6; ++i) mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
  return mac;
}

// Asks for every cache line of bytes; the copy that follows finds them there.
void prefetch(std::span<const std::uint8_t> bytes) {
  for (std::size_t offset = 0; offset < bytes.size(); offset += 64) __builtin_prefetch(bytes.data() + offset);
  if (!bytes.empty()) __builtin_prefetch(bytes.data() + bytes.size() - 1);
}

std::string text_of(const packet::Ipv4Address& address) {
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, address.data(), text, sizeof text);
  return text;
}
}  // namespace

std::vector<std::string> default_memif_eal_args() {
  return {"--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry", "--log-level", "*:warning"};
}

MemifTransport::MemifTransport(MemifOptions options) : options_(std::move(options)) {
  ipv4_ = ipv4_of(options_.local_address);
  mac_ = mac_of(options_.mac);
  std::vector<std::string> args = options_.eal_args;
  args.push_back("--vdev");
  args.push_back(std::string(kDeviceName) + ",role=client,socket=" + options_.socket_path +
                 ",socket-abstract=no,rsize=" + std::to_string(options_.ring_log2) + ",mac=" + options_.mac);
  // EAL pins the calling thread to its main lcore; the precomputation and the
  // monitor want every core, so the thread gets its affinity back afterwards.
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  const bool had_affinity = pthread_getaffinity_np(pthread_self(), sizeof affinity, &affinity) == 0;
  const dataplane::Status up = dataplane::init_eal(args);
  if (had_affinity) pthread_setaffinity_np(pthread_self(), sizeof affinity, &affinity);
  if (!up) throw std::runtime_error("EAL: " + up.error().message);

  if (rte_eth_dev_get_port_by_name(kDeviceName, &port_id_) != 0) {
    throw std::runtime_error(std::string("EAL is up but ") + kDeviceName + " did not probe (is net_memif installed?)");
  }
  const int socket = rte_eth_dev_socket_id(port_id_) < 0 ? 0 : rte_eth_dev_socket_id(port_id_);
  // One pool per thread: an rte_ring-backed mempool shared by two threads can
  // livelock when one is preempted inside a ring operation and the other
  // spins on it (two SCHED_FIFO threads on one core). The sender's frames come
  // from tx_pool_ (memif copies and frees them inside tx_burst, on the sender's
  // thread); received frames and ARP frames from pool_ (the receiver's thread,
  // or the main thread before the receiver starts).
  // Each thread registers as an lcore (attach_io_thread), so its mbufs cycle
  // through its own LIFO cache and stay in the CPU cache. Without one, every
  // alloc and free went through the FIFO ring, touching all 32k mbufs in turn
  // (perf at 15,000 G.711: 15% of the load generator's core in the ring).
  pool_ = rte_pktmbuf_pool_create("loadgen_rx_pool", kPoolMbufs, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  tx_pool_ = rte_pktmbuf_pool_create("loadgen_tx_pool", 4095, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (!pool_ || !tx_pool_) throw std::runtime_error("rte_pktmbuf_pool_create: " + std::string(rte_strerror(rte_errno)));
  rte_eth_conf conf{};
  if (int error = rte_eth_dev_configure(port_id_, 1, 1, &conf); error != 0) {
    throw std::runtime_error("rte_eth_dev_configure: " + std::string(rte_strerror(-error)));
  }
  const std::uint16_t descriptors = static_cast<std::uint16_t>(1u << std::min(options_.ring_log2, 15u));
  if (int error = rte_eth_rx_queue_setup(port_id_, 0, descriptors, static_cast<unsigned>(socket), nullptr, pool_);
      error != 0) {
    throw std::runtime_error("rte_eth_rx_queue_setup: " + std::string(rte_strerror(-error)));
  }
  if (int error = rte_eth_tx_queue_setup(port_id_, 0, descriptors, static_cast<unsigned>(socket), nullptr);
      error != 0) {
    throw std::runtime_error("rte_eth_tx_queue_setup: " + std::string(rte_strerror(-error)));
  }
  if (int error = rte_eth_dev_start(port_id_); error != 0) {
    throw std::runtime_error("rte_eth_dev_start (" + options_.socket_path + "): " + std::string(rte_strerror(-error)));
  }
  started_ = true;
  rte_ether_addr actual{};
  if (rte_eth_macaddr_get(port_id_, &actual) == 0) std::memcpy(mac_.data(), actual.addr_bytes, 6);
  // The client connects to mrfpd's socket and the link comes up once both sides agree.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id_, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) break;
    if (std::chrono::steady_clock::now() > give_up) {
      throw std::runtime_error("memif link to " + options_.socket_path + " did not come up within 10 s (is mrfpd's net_memif server there?)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  mixer_ipv4_ = ipv4_of(options_.mixer_address);
  resolve_mixer();
}

MemifTransport::~MemifTransport() {
  if (started_) {
    std::fprintf(stderr,
                 "memif: ARP requests answered %llu, TX ring full %llu times, RX drops %llu, frames before the run %llu, "
                 "stray %llu\n",
                 static_cast<unsigned long long>(arp_answered_), static_cast<unsigned long long>(tx_full_spins_),
                 static_cast<unsigned long long>(receive_drops()), static_cast<unsigned long long>(early_),
                 static_cast<unsigned long long>(stray_));
  }
  if (held_count_) rte_pktmbuf_free_bulk(held_.data(), static_cast<unsigned>(held_count_));
  if (started_) {
    rte_eth_dev_stop(port_id_);
    rte_eth_dev_close(port_id_);
  }
  if (pool_) rte_mempool_free(pool_);
  if (tx_pool_) rte_mempool_free(tx_pool_);
}

void MemifTransport::attach_io_thread() {
  // A thread EAL did not start has no lcore id, and without one the mempools
  // bypass their per-lcore caches. Failing to get one costs speed, not correctness.
  if (rte_lcore_id() == LCORE_ID_ANY && rte_thread_register() != 0) {
    std::fprintf(stderr, "memif: rte_thread_register: %s (mbufs come from the shared ring)\n",
                 rte_strerror(rte_errno));
  }
}

void MemifTransport::detach_io_thread() {
  // The lcore's cached mbufs stay in the cache, which the pool owns and frees.
  rte_thread_unregister();
}

in_addr MemifTransport::participant_address(std::uint32_t participant) const {
  if (participant > kLastParticipant - kFirstParticipant) throw std::runtime_error("too many participants for 198.18.0.0/15");
  in_addr address{};
  address.s_addr = htonl(kFirstParticipant + participant);
  return address;
}

void MemifTransport::set_destinations(std::vector<sockaddr_in> destinations) {
  for (const auto& destination : destinations) {
    if (ipv4_of(destination.sin_addr) != mixer_ipv4_) {
      throw std::runtime_error("mrfpd gave media address " + text_of(ipv4_of(destination.sin_addr)) +
                               ", the memif transport resolved " + text_of(mixer_ipv4_) + " (--memif-mixer-address)");
    }
  }
  destinations_ = std::move(destinations);
}

void MemifTransport::resolve_mixer() {
  // Who has mrfpd's address? Asking also puts us in mrfpd's neighbour table.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.resolve_timeout_s);
  auto next_request = std::chrono::steady_clock::now();
  std::array<ReceivedDatagram, kRxBatch> ignored;
  while (!mixer_resolved_) {
    if (std::chrono::steady_clock::now() > give_up) {
      throw std::runtime_error("mrfpd's address " + text_of(mixer_ipv4_) + " not resolved by ARP over memif");
    }
    if (std::chrono::steady_clock::now() >= next_request) {
      std::lock_guard lock(tx_mutex_);
      send_arp(1, packet::MacAddress{}, mixer_ipv4_, packet::kBroadcastMac);
      next_request += std::chrono::milliseconds(200);
    }
    early_ += poll_once(ignored);  // no participant exists yet: nothing to count
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void MemifTransport::send_arp(std::uint16_t operation, const packet::MacAddress& target_mac,
                              const packet::Ipv4Address& target_ip, const packet::MacAddress& ethernet_destination) {
  rte_mbuf* frame = rte_pktmbuf_alloc(pool_);
  if (!frame) return;
  auto* data = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(frame, packet::kEthernetHeaderLength + packet::kArpLength));
  if (!data) {
    rte_pktmbuf_free(frame);
    return;
  }
  packet::EthernetHeaderFields ethernet{.destination = ethernet_destination, .source = mac_,
                                        .ether_type = packet::ether_type::kArp};
  packet::build_ethernet_header({data, packet::kEthernetHeaderLength}, ethernet);
  packet::ArpPacket arp{.operation = static_cast<packet::ArpOperation>(operation), .sender_mac = mac_,
                        .sender_ip = ipv4_, .target_mac = target_mac, .target_ip = target_ip};
  packet::build_arp({data + packet::kEthernetHeaderLength, packet::kArpLength}, arp);
  if (transmit(&frame, 1) == 0) rte_pktmbuf_free(frame);  // ARP asks again
}

void MemifTransport::handle_arp(std::span<const std::uint8_t> payload) {
  const auto arp = packet::parse_arp(payload);
  if (!arp) {
    ++stray_;
    return;
  }
  if (arp->operation == packet::ArpOperation::Reply && arp->sender_ip == mixer_ipv4_ && arp->target_ip == ipv4_) {
    // Learned once, before the sender starts (set_destinations): never rewritten under it.
    if (!mixer_resolved_) {
      mixer_mac_ = arp->sender_mac;
      mixer_resolved_ = true;
    }
    return;
  }
  if (arp->operation == packet::ArpOperation::Request && arp->target_ip == ipv4_) {
    std::lock_guard lock(tx_mutex_);
    send_arp(2, arp->sender_mac, arp->sender_ip, arp->sender_mac);
    ++arp_answered_;
    return;
  }
  ++stray_;
}

std::uint16_t MemifTransport::transmit(rte_mbuf** frames, std::uint16_t count) {
  std::uint16_t sent = 0;
  while (sent < count) {
    const std::uint16_t now_sent = rte_eth_tx_burst(port_id_, 0, frames + sent, static_cast<std::uint16_t>(count - sent));
    if (now_sent == 0) break;
    sent = static_cast<std::uint16_t>(sent + now_sent);
  }
  if (sent == count) {
    ring_full_since_ns_ = 0;
    return sent;
  }
  // The ring is full: mrfpd has not drained it yet. Never wait here: the one
  // I/O thread must go on draining mrfpd's output meanwhile (io_loop.h), or
  // mrfpd's own TX ring fills while it is in a tick and it drops frames.
  ++tx_full_spins_;
  const std::int64_t now = monotonic_ns();
  if (sent != 0 || ring_full_since_ns_ == 0) ring_full_since_ns_ = now;
  return sent;
}

bool MemifTransport::ring_stuck() const {
  // 50 ms without the ring taking a frame: mrfpd is behind by more than two
  // ticks (a tick overrun fails the run anyway); what is offered is dropped
  // as send errors rather than deferred, so the load generator cannot hang.
  return ring_full_since_ns_ != 0 && monotonic_ns() - ring_full_since_ns_ > 50'000'000;
}

SendOutcome MemifTransport::send(std::span<const OutgoingPacket> packets) {
  SendOutcome outcome;
  std::lock_guard lock(tx_mutex_);
  // The precomputed packets (gigabytes of them) are read once each, in an
  // order no hardware prefetcher follows: every copy waited on DRAM (perf at
  // 15,000 G.711: a third of the load generator's core in memmove). Asking
  // for them a few packets ahead overlaps the misses.
  for (std::size_t i = 0; i < std::min<std::size_t>(packets.size(), kPrefetchAhead); ++i) prefetch(packets[i].bytes);
  std::array<rte_mbuf*, kTxBurst> frames;
  std::array<std::size_t, kTxBurst> packet_of;  // frames[i] carries packets[packet_of[i]]
  for (std::size_t first = 0; first < packets.size(); first += kTxBurst) {
    const auto count = static_cast<std::uint16_t>(std::min<std::size_t>(kTxBurst, packets.size() - first));
    if (!mixer_resolved_ || rte_pktmbuf_alloc_bulk(tx_pool_, frames.data(), count) != 0) {
      outcome.errors += count;
      continue;
    }
    std::uint16_t built = 0;
    for (std::uint16_t i = 0; i < count; ++i) {
      if (first + i + kPrefetchAhead < packets.size()) prefetch(packets[first + i + kPrefetchAhead].bytes);
      const OutgoingPacket& packet = packets[first + i];
      rte_mbuf* frame = frames[i];
      auto* data = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(frame, static_cast<std::uint16_t>(kHeaders + packet.bytes.size())));
      if (!data || packet.participant >= destinations_.size()) {
        rte_pktmbuf_free(frame);
        ++outcome.errors;
        continue;
      }
      std::memcpy(data + kHeaders, packet.bytes.data(), packet.bytes.size());
      const sockaddr_in& destination = destinations_[packet.participant];
      packet::UdpFrameHeaderFields fields;
      fields.ethernet.destination = mixer_mac_;
      fields.ethernet.source = mac_;
      fields.ip.version = packet::IpVersion::V4;
      fields.ip.source_v4 = ipv4_of(participant_address(packet.participant));
      fields.ip.destination_v4 = mixer_ipv4_;
      fields.source_port = options_.udp_port;
      fields.destination_port = ntohs(destination.sin_port);
      const auto written = packet::build_udp_frame_headers({data, kHeaders}, fields, {data + kHeaders, packet.bytes.size()},
                                                           /*compute_udp_checksum=*/true);
      if (!written || written.length != kHeaders) {
        rte_pktmbuf_free(frame);
        ++outcome.errors;
        continue;
      }
      packet_of[built] = first + i;
      frames[built++] = frame;
    }
    const std::uint16_t sent = transmit(frames.data(), built);
    outcome.sent += sent;
    if (sent == built) continue;
    rte_pktmbuf_free_bulk(frames.data() + sent, static_cast<unsigned>(built - sent));
    if (ring_stuck()) {
      outcome.errors += built - sent;
      continue;
    }
    // Hand the rest back, from the first packet the ring did not take; the
    // build errors counted past it are not errors yet (they are offered again).
    const std::size_t stopped_at = packet_of[sent];
    outcome.errors -= (first + count - stopped_at) - (built - sent);
    outcome.deferred = packets.size() - stopped_at;
    return outcome;
  }
  return outcome;
}

std::size_t MemifTransport::poll_once(std::span<ReceivedDatagram> out) {
  if (held_count_) {
    rte_pktmbuf_free_bulk(held_.data(), static_cast<unsigned>(held_count_));
    held_count_ = 0;
  }
  std::array<rte_mbuf*, kRxBatch> frames;
  const auto wanted = static_cast<std::uint16_t>(std::min(out.size(), kRxBatch));
  const std::uint16_t received = rte_eth_rx_burst(port_id_, 0, frames.data(), wanted);
  if (received == 0) return 0;
  const std::int64_t arrival = monotonic_ns();
  std::size_t delivered = 0;
  for (std::uint16_t i = 0; i < received; ++i) {
    rte_mbuf* frame = frames[i];
    if (frame->nb_segs != 1) {
      ++stray_;
      rte_pktmbuf_free(frame);
      continue;
    }
    auto* data = rte_pktmbuf_mtod(frame, std::uint8_t*);
    const std::span<const std::uint8_t> bytes(data, rte_pktmbuf_data_len(frame));
    const auto ethernet = packet::parse_ethernet(bytes);
    if (ethernet && ethernet->ether_type == packet::ether_type::kArp) {
      handle_arp(ethernet->payload);
      rte_pktmbuf_free(frame);
      continue;
    }
    const auto udp = packet::parse_udp_frame(bytes, /*verify_udp_checksum=*/true);
    std::uint32_t participant = 0;
    if (!udp || udp->ip.version != packet::IpVersion::V4 || udp->udp.destination_port != options_.udp_port) {
      ++stray_;
      rte_pktmbuf_free(frame);
      continue;
    }
    std::uint32_t host = 0;
    std::memcpy(&host, udp->ip.destination_v4.data(), 4);
    host = ntohl(host);
    if (host < kFirstParticipant || host > kLastParticipant) {
      ++stray_;
      rte_pktmbuf_free(frame);
      continue;
    }
    participant = host - kFirstParticipant;
    // The payload lies inside the mbuf, which we own until the next poll: writable.
    auto* payload = data + (udp->udp.payload.data() - bytes.data());
    out[delivered++] = {participant, payload, udp->udp.payload.size(), arrival};
    held_[held_count_++] = frame;
  }
  return delivered;
}

std::size_t MemifTransport::receive(std::span<ReceivedDatagram> out, int timeout_ms) {
  const std::int64_t give_up = monotonic_ns() + std::int64_t{timeout_ms} * 1'000'000;
  for (;;) {
    const std::size_t delivered = poll_once(out);
    if (delivered) return delivered;
    if (monotonic_ns() >= give_up) return 0;
    const timespec pause{0, kIdlePollNs};  // nothing yet: transport.h says why this long
    nanosleep(&pause, nullptr);
  }
}

std::uint64_t MemifTransport::receive_drops() const {
  rte_eth_stats stats{};
  if (rte_eth_stats_get(port_id_, &stats) != 0) return 0;
  return stats.imissed + stats.rx_nombuf + stats.ierrors;
}

}  // namespace mrfp::loadgen
