// The DPDK net_memif transport: the load generator is the memif CLIENT of
// mrfpd's net_memif SERVER port (shared memory, no NIC, no kernel). It owns an
// IPv4 address and a MAC on that link (default 198.18.0.2/24, mrfpd being
// 198.18.0.1 with --dpdk-gateway 198.18.0.2), answers ARP for it, and puts
// every participant behind it: participant p is 198.18.1.1 + p (198.18.0.0/15,
// RFC 2544's benchmarking range), off-link for mrfpd, so mrfpd resolves one next
// hop (us) by ARP. The precomputed SRTP goes out wrapped in Ethernet/IPv4/UDP
// built by dataplane/packet (IPv4 and UDP checksums computed); received frames
// are parsed by the same code and handed up as UDP payloads.
//
// Threads: the load generator's one I/O thread sends and receives (io_loop.h);
// during the set-up the main thread resolves mrfpd by ARP while that thread
// already receives (and answers ARP), so TX queue 0 is under a mutex taken
// once per send().
// No allocation per packet: mbufs from one pool, fixed arrays.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "bench/loadgen/transport.h"
#include "dataplane/packet/addresses.h"

namespace mrfp::loadgen {

struct MemifOptions {
  std::string socket_path;             // mrfpd's net_memif server socket (socket-abstract=no)
  std::vector<std::string> eal_args;   // without --vdev (added here)
  std::string local_address = "198.18.0.2";
  std::string mixer_address = "198.18.0.1";  // mrfpd's media address: resolved by ARP in the constructor
  std::string mac = "02:fe:00:00:00:02";
  unsigned ring_log2 = 14;             // memif rsize: a whole tick of listener packets fits
  std::uint16_t udp_port = 40000;      // every participant's port
  double resolve_timeout_s = 10;       // ARP for mrfpd's address
};

// The EAL arguments used when --eal is not given: no hugepages, no shared
// config (runs beside other DPDK processes), quiet.
std::vector<std::string> default_memif_eal_args();

class MemifTransport final : public Transport {
 public:
  // Initialises EAL (once per process), starts the port, waits for the memif
  // link (mrfpd must be listening) and resolves mrfpd's MAC by ARP (which also
  // teaches mrfpd ours). Throws std::runtime_error naming what failed.
  explicit MemifTransport(MemifOptions options);
  ~MemifTransport() override;
  MemifTransport(const MemifTransport&) = delete;
  MemifTransport& operator=(const MemifTransport&) = delete;

  in_addr participant_address(std::uint32_t participant) const override;
  std::uint16_t participant_port() const override { return options_.udp_port; }
  // Throws if mrfpd gave an address other than MemifOptions::mixer_address.
  void set_destinations(std::vector<sockaddr_in> destinations) override;

  void attach_io_thread() override;
  void detach_io_thread() override;

  std::size_t max_batch() const override { return 1024; }
  SendOutcome send(std::span<const OutgoingPacket> packets) override;

  std::size_t receive(std::span<ReceivedDatagram> out, int timeout_ms) override;
  std::size_t max_receive_batch() const override { return kRxBatch; }
  std::size_t receive_ring_frames() const override { return std::size_t{1} << options_.ring_log2; }
  std::uint64_t receive_drops() const override;
  std::uint64_t stray_packets() const override { return stray_; }

  std::uint64_t arp_requests_answered() const { return arp_answered_; }
  std::uint64_t tx_ring_full_spins() const { return tx_full_spins_; }

 private:
  static constexpr std::uint16_t kTxBurst = 64;
  static constexpr std::uint16_t kPrefetchAhead = 8;
  static constexpr std::size_t kRxBatch = 256;

  // One rx_burst: datagrams for participants into out, ARP handled, the rest counted.
  std::size_t poll_once(std::span<ReceivedDatagram> out);
  void resolve_mixer();
  void handle_arp(std::span<const std::uint8_t> payload);
  void send_arp(std::uint16_t operation, const packet::MacAddress& target_mac, const packet::Ipv4Address& target_ip,
                const packet::MacAddress& ethernet_destination);
  // Sends frames on TX queue 0 (tx_mutex_ held) until the ring is full;
  // returns how many went (the caller owns the rest).
  std::uint16_t transmit(rte_mbuf** frames, std::uint16_t count);
  bool ring_stuck() const;

  MemifOptions options_;
  std::uint16_t port_id_ = 0;
  rte_mempool* pool_ = nullptr;     // RX and ARP
  rte_mempool* tx_pool_ = nullptr;  // media frames
  packet::MacAddress mac_{}, mixer_mac_{};
  packet::Ipv4Address ipv4_{};
  bool mixer_resolved_ = false;
  packet::Ipv4Address mixer_ipv4_{};
  std::vector<sockaddr_in> destinations_;
  std::mutex tx_mutex_;
  std::array<rte_mbuf*, kRxBatch> held_{};  // behind the last receive()'s datagrams
  std::size_t held_count_ = 0;
  std::uint64_t stray_ = 0, arp_answered_ = 0, tx_full_spins_ = 0, early_ = 0;
  std::int64_t ring_full_since_ns_ = 0;  // since when the TX ring has taken nothing
  bool started_ = false;
};

}  // namespace mrfp::loadgen
