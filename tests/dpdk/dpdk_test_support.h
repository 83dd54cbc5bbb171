// What every DPDK backend test needs: EAL once per process (a GoogleTest global
// environment), a net_ring port whose two rings the test drives (frames in, frames
// out), and frame builders and an independent RFC 1071 checksum to judge what the
// backend sends.
#pragma once

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <ctime>
#include <vector>

#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/dpdk/dpdk_port.h"
#include "dataplane/dpdk/eal.h"
#include "dataplane/packet/arp.h"
#include "dataplane/packet/bytes.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/udp_frame.h"

namespace mrfp::dataplane::test {

// --no-huge/--no-shconf: no hugepages needed and test processes run in parallel.
inline const std::vector<std::string> kEalArgs = {"--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                                                  "--no-telemetry", "-l", "0", "--log-level", "*:warning"};

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const Status up = init_eal(kEalArgs);
    ASSERT_TRUE(up) << up.error().message;
  }
};

inline ::testing::Environment* const kEalEnvironment = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

inline const packet::Ipv4Address kMixerIp = {198, 18, 0, 1};  // RFC 2544 benchmarking range
inline const packet::MacAddress kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};

// The backend's clock is CLOCK_MONOTONIC read from the TSC: judge neighbour ages on that scale.
inline std::int64_t clock_now_us() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1'000'000LL + now.tv_nsec / 1000;
}

inline std::string unique_name(const std::string& stem) {
  static std::atomic<unsigned> serial{0};
  return stem + std::to_string(serial++);
}

// A net_ring port: the test enqueues on `to_port` what the port receives, and
// dequeues from `from_port` what it sends.
struct RingPort {
  rte_ring* to_port = nullptr;
  rte_ring* from_port = nullptr;
  rte_mempool* pool = nullptr;  // the test's own frames
  std::string name;
  std::uint16_t port_id = 0;
  std::vector<rte_ring*> rx, tx;  // per queue; to_port and from_port are queue 0's

  // tx_ring_size: a power of two; the ring holds one frame less.
  explicit RingPort(unsigned queues = 1, unsigned tx_ring_size = 4096) {
    name = unique_name("mrfp_test_ring");
    rx.resize(queues);
    tx.resize(queues);
    for (unsigned q = 0; q < queues; ++q) {
      rx[q] = rte_ring_create(unique_name("rx").c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx[q] = rte_ring_create(unique_name("tx").c_str(), tx_ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    to_port = rx[0];
    from_port = tx[0];
    const int port = rte_eth_from_rings(name.c_str(), rx.data(), queues, tx.data(), queues, 0);
    EXPECT_GE(port, 0) << "rte_eth_from_rings " << name;
    port_id = static_cast<std::uint16_t>(port);
    pool = rte_pktmbuf_pool_create(unique_name("test_pool").c_str(), 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   SOCKET_ID_ANY);
    EXPECT_NE(pool, nullptr);
  }

  ~RingPort() {
    // Everything the test made goes, so the next test of this process finds memory.
    rte_eth_dev_close(port_id);
    for (std::vector<rte_ring*>* rings : {&rx, &tx}) {
      for (rte_ring* ring : *rings) {
        void* object = nullptr;
        while (rte_ring_dequeue(ring, &object) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(object));
        rte_ring_free(ring);
      }
    }
    rte_mempool_free(pool);
  }
  RingPort(const RingPort&) = delete;
  RingPort& operator=(const RingPort&) = delete;

  DpdkPortConfig config() const {
    DpdkPortConfig config;
    config.port_id = port_id;  // the ethdev is named net_ring_<name>
    config.ipv4_address = "198.18.0.1";
    config.ipv4_prefix_length = 24;
    config.mbufs_per_queue = 1024;
    config.replication = ReplicationMode::Chained;
    config.idle_sleep_us = 0;
    return config;
  }

  void inject(std::span<const std::uint8_t> frame) const {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size())), frame.data(), frame.size());
    ASSERT_EQ(rte_ring_enqueue(to_port, m), 0);
  }

  // What the port sent since the last call (on every queue), each frame linearised;
  // the mbufs are freed unless `keep` takes them (then the caller frees them).
  std::vector<std::vector<std::uint8_t>> drain(std::vector<rte_mbuf*>* keep = nullptr) const {
    std::vector<std::vector<std::uint8_t>> frames;
    for (rte_ring* ring : tx) {
      void* object = nullptr;
      while (rte_ring_dequeue(ring, &object) == 0) {
        auto* m = static_cast<rte_mbuf*>(object);
        std::vector<std::uint8_t> bytes(m->pkt_len);
        const void* data = rte_pktmbuf_read(m, 0, m->pkt_len, bytes.data());
        if (data != bytes.data()) std::memcpy(bytes.data(), data, m->pkt_len);
        frames.push_back(std::move(bytes));
        if (keep) {
          keep->push_back(m);
        } else {
          rte_pktmbuf_free(m);
        }
      }
    }
    return frames;
  }
};

// RFC 1071 written out again, independent of mrfp_packet's InternetChecksum.
inline std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    const std::uint32_t high = bytes[i];
    const std::uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    sum += high << 8 | low;
  }
  return sum;
}
inline std::uint16_t fold_complement(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// An Ethernet/IPv4/UDP frame from a peer to the mixer, checksums correct.
inline std::vector<std::uint8_t> udp_frame(const packet::MacAddress& destination_mac,
                                           const packet::MacAddress& source_mac, const packet::Ipv4Address& source,
                                           std::uint16_t source_port, const packet::Ipv4Address& destination,
                                           std::uint16_t destination_port, std::span<const std::uint8_t> payload) {
  packet::UdpFrameHeaderFields fields;
  fields.ethernet.destination = destination_mac;
  fields.ethernet.source = source_mac;
  fields.ip.version = packet::IpVersion::V4;
  fields.ip.source_v4 = source;
  fields.ip.destination_v4 = destination;
  fields.source_port = source_port;
  fields.destination_port = destination_port;
  std::vector<std::uint8_t> frame(64 + payload.size());
  const packet::BuildResult headers = packet::build_udp_frame_headers(frame, fields, payload, true);
  EXPECT_TRUE(headers.ok());
  std::memcpy(frame.data() + headers.length, payload.data(), payload.size());
  frame.resize(headers.length + payload.size());
  return frame;
}

inline std::vector<std::uint8_t> arp_frame(packet::ArpOperation operation, const packet::MacAddress& sender_mac,
                                           const packet::Ipv4Address& sender_ip, const packet::MacAddress& target_mac,
                                           const packet::Ipv4Address& target_ip,
                                           const packet::MacAddress& destination = packet::kBroadcastMac) {
  std::vector<std::uint8_t> frame(packet::kEthernetHeaderLength + packet::kArpLength);
  packet::EthernetHeaderFields ethernet;
  ethernet.destination = destination;
  ethernet.source = sender_mac;
  ethernet.ether_type = packet::ether_type::kArp;
  packet::build_ethernet_header(frame, ethernet);
  packet::ArpPacket arp{operation, sender_mac, sender_ip, target_mac, target_ip};
  packet::build_arp(std::span(frame).subspan(packet::kEthernetHeaderLength), arp);
  return frame;
}

inline sockaddr_storage ipv4_endpoint(const packet::Ipv4Address& ip, std::uint16_t port) {
  sockaddr_storage address{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  std::memcpy(&v4->sin_addr, ip.data(), 4);
  return address;
}

// Opens a port with `config`, a backend on its queue 0 and a port allocator
// for it; fails the calling test (wrap the call in ASSERT_NO_FATAL_FAILURE)
// when the port or the backend refuses.
inline void open_backend(const DpdkPortConfig& config, std::shared_ptr<DpdkPort>& port,
                         std::unique_ptr<DpdkBackend>& backend, std::optional<PortAllocator>& ports) {
  auto opened = DpdkPort::open(config);
  ASSERT_TRUE(opened) << opened.error().message;
  port = opened.value();
  auto made = DpdkBackend::create(port, 0);
  ASSERT_TRUE(made) << made.error().message;
  backend = std::move(made.value());
  auto allocator = PortAllocator::create(30000, 30099, PortParity::Any);
  ASSERT_TRUE(allocator);
  ports.emplace(std::move(allocator.value()));
}

}  // namespace mrfp::dataplane::test
