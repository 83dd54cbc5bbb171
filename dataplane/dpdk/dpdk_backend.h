// The DPDK ethdev PacketBackend of one worker: queue pair `queue` of a DpdkPort.
//
//   receive_burst: rx_burst (32 at a time) -> parse Ethernet/802.1Q -> IPv4/IPv6
//     -> UDP to an open local port: a ReceivedDatagram pointing into the mbuf
//        (zero copy; held until the next call, writable in place for SRTP)
//     -> ARP, ICMP echo, ICMPv6 echo and neighbour solicitation: answered here
//     -> UDP to a port another worker opened (RSS put it on our queue): passed to
//        that worker's handoff ring; ARP aimed at us: a refcounted copy to every
//        other worker so all neighbour tables learn
//     -> anything else: counted by reason and freed
//   open_in_range/close (control path, with more than one queue): an rte_flow rule
//     per local port steering it to this queue (dpdk_flow.cpp), so the handoff
//     ring above carries only what a device without rte_flow spreads by RSS.
//   send_to_many: the payload copied once into one mbuf; per destination a
//     header mbuf (Ethernet/IP/UDP) chained to an indirect clone of it
//     (DPDK's ipv4_multicast pattern), sent in bursts of 32.
//
// Owned and used by one worker thread: no locks, no allocation beyond the
// mempools, no system calls on the packet path. Counters are plain integers:
// read them from another thread only while the worker is stopped.
#pragma once

#include <rte_flow.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/dpdk/dpdk_port.h"
#include "dataplane/dpdk/neighbour_table.h"
#include "dataplane/dpdk/tsc_clock.h"
#include "dataplane/dpdk/tx_backlog.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/result.h"
#include "dataplane/packet_backend.h"

namespace mrfp::dataplane {

struct DpdkCounters {
  // Receive, by outcome.
  std::uint64_t rx_frames = 0;
  std::uint64_t rx_delivered = 0;        // UDP to an open port, handed to the worker
  std::uint64_t rx_closed_port = 0;      // UDP to our address, no port open there
  std::uint64_t rx_not_for_us = 0;       // IP to another address, or another VLAN
  std::uint64_t rx_truncated = 0;        // shorter than its headers or length fields say
  std::uint64_t rx_bad_checksum = 0;     // IPv4 header, UDP or ICMP checksum wrong
  std::uint64_t rx_fragment = 0;         // IPv4/IPv6 fragments: never reassembled
  std::uint64_t rx_malformed = 0;        // bad version, header length, extension chain
  std::uint64_t rx_unsupported = 0;      // other EtherTypes, IP protocols, ICMP types
  std::uint64_t rx_multi_segment = 0;    // scattered frames (not enabled; dropped)
  std::uint64_t rx_handed_off = 0;       // UDP for another worker's port: passed to its queue
  std::uint64_t rx_handoff_dropped = 0;  // ... but its handoff ring was full
  std::uint64_t rx_from_other_queues = 0;  // frames other workers passed to us
  std::uint64_t rx_arp_requests = 0;     // for our address, answered
  std::uint64_t rx_arp_replies = 0;      // learned from
  std::uint64_t rx_arp_other = 0;        // for other addresses, or unparseable
  std::uint64_t rx_icmp_echo = 0;        // echo requests answered (ICMP and ICMPv6)
  std::uint64_t rx_neighbour_solicitations = 0;  // for our IPv6 address, answered
  // Transmit.
  std::uint64_t tx_frames = 0;           // accepted by the TX queue
  std::uint64_t tx_backlogged = 0;       // the TX ring was full: kept, sent later in order
  std::uint64_t tx_refused = 0;          // the TX ring and the backlog were full, or the backlog went stale: freed
  std::uint64_t tx_no_mbuf = 0;          // a pool ran dry
  std::uint64_t tx_unresolved = 0;       // next hop MAC unknown: dropped, resolution asked
  std::uint64_t tx_arp_requests = 0;     // resolution requests sent (ARP and neighbour solicitations)
  std::uint64_t tx_bad_destination = 0;  // port index not open, family mismatch
  std::uint64_t tx_too_large = 0;        // payload beyond one mbuf
  std::uint64_t tx_control = 0;          // ARP/ICMP/NA answers sent
  // Payload bytes written into mbufs: once per output frame when replication is
  // chained (every destination's header points at the same payload), once per
  // destination when copied. Divided by tx_frames: the bytes copied per packet sent.
  std::uint64_t tx_payload_bytes_copied = 0;
  // Steering (control path, counted when a port opens or closes; only with more than one queue).
  // A port with a rule is received on our queue by the device; one refused stays with
  // the software hand-off (rx_handed_off / rx_from_other_queues count what it carries).
  std::uint64_t flow_rules_installed = 0;     // rte_flow rules created for our ports
  std::uint64_t flow_rules_refused = 0;       // ports left to the hand-off: device refused, or create failed
  std::uint64_t flow_rules_destroy_failed = 0;  // rte_flow_destroy failed (the hand-off still routes right)
};

class DpdkBackend final : public PacketBackend {
 public:
  // A TX backlog the ring has taken nothing from for this long is dropped whole
  // (a link down, a peer gone): audio that old would arrive as a burst of the past.
  static constexpr std::int64_t kBacklogStaleUs = 100'000;
  // Claims queue pair `queue` of port (FailedPrecondition if another backend has it).
  static Result<std::unique_ptr<DpdkBackend>> create(std::shared_ptr<DpdkPort> port, std::uint16_t queue);
  ~DpdkBackend() override;
  DpdkBackend(const DpdkBackend&) = delete;
  DpdkBackend& operator=(const DpdkBackend&) = delete;

  // local_address must be one of the port's addresses (IPv4 or IPv6 text).
  Result<OpenedSocket> open_in_range(const std::string& local_address, PortAllocator& ports) override;
  Status close(std::uint32_t index, PortAllocator* ports) override;
  // One poll of the RX queue (two rx_bursts of 32 at most); never blocks. When
  // nothing came and timeout_ms > 0, sleeps DpdkPortConfig::idle_sleep_us first.
  std::size_t receive_burst(ReceiveBurst& burst, int timeout_ms) override;
  // Registers the worker thread with EAL (an lcore id, hence mempool caches)
  // and pins it to the queue-th worker lcore of EAL's -l list when there is one.
  void attach_worker_thread() override;
  std::size_t send_to_many(std::span<const std::uint8_t> bytes, std::span<const Destination> destinations) override;

  const DpdkCounters& counters() const { return counters_; }
  void report_io_counters(std::vector<IoCounter>& out) const override;
  const NeighbourTable& neighbours() const { return neighbours_; }
  // A static neighbour (e.g. from configuration): never needs resolving.
  void add_neighbour(const sockaddr_storage& address, const packet::MacAddress& mac);
  std::uint16_t queue() const { return queue_; }
  const DpdkPort& port() const { return *port_; }

 private:
  static constexpr std::uint16_t kBurst = 32;
  static constexpr std::uint32_t kNoIndex = ~std::uint32_t{0};
  static constexpr std::size_t kMaxHeld = 256;

  struct LocalPort {
    std::uint16_t port = 0;
    sa_family_t family = AF_UNSPEC;  // AF_UNSPEC: index free
    rte_flow* flow = nullptr;        // the rule steering it to our queue; nullptr: hand-off only
  };

  DpdkBackend(std::shared_ptr<DpdkPort> port, std::uint16_t queue);

  // Steering (dpdk_flow.cpp), called from open_in_range/close on the worker's own
  // thread, never from the receive path. Installs an rte_flow rule for local.port
  // (ETH / IPV4|IPV6 dst = our address / UDP dst = port -> QUEUE queue_), or leaves the
  // port to the hand-off ring when the device refuses.
  void steer_to_this_queue(LocalPort& local);
  void stop_steering(LocalPort& local);

  // Receive stage (dpdk_receive.cpp): one frame, true when it became a datagram.
  // handed: it came from another worker's queue (never handed on again, never answered).
  bool classify(rte_mbuf* frame, ReceiveBurst& burst, std::int64_t now_us, bool handed);
  // A frame's UDP destination port (a guess, 0 for none) to its index, then
  // the index to its local port: prefetched a few frames ahead of classify().
  void prefetch_port_index(std::uint16_t port) const;
  void prefetch_local_port(std::uint16_t port) const;
  // Another worker owns the destination port: pass the frame on. False when nobody does.
  bool hand_off(rte_mbuf* frame, std::uint16_t udp_port);
  // ARP and NA teach every worker's neighbour table: a copy (refcount) to each other queue.
  void share_with_other_queues(rte_mbuf* frame);
  bool deliver_udp(rte_mbuf* frame, std::span<const std::uint8_t> segment, const sockaddr_storage& source,
                   sa_family_t family, ReceiveBurst& burst, std::int64_t now_us, bool handed);
  void count_parse_error(packet::ParseError error);
  void release_held();

  // Control protocols (dpdk_control.cpp): ARP, ICMP echo, ICMPv6 echo and ND.
  // True when the frame should also teach the other workers (an ARP aimed at us).
  bool handle_arp(std::span<const std::uint8_t> payload, bool answer);
  void handle_icmp(const packet::EthernetFrame& ethernet, const packet::Ipv4Address& source,
                   std::span<const std::uint8_t> message);
  void handle_icmpv6(const packet::EthernetFrame& ethernet, const packet::Ipv6Address& source,
                     const packet::Ipv6Address& destination, std::uint8_t hop_limit,
                     std::span<const std::uint8_t> message);
  void send_arp_request(const packet::Ipv4Address& target);
  void send_neighbour_solicitation(const packet::Ipv6Address& target);
  // A fresh single-segment frame from the packet pool with the Ethernet header
  // written; body points after it. nullptr (counted) when the pool is empty.
  rte_mbuf* control_frame(const packet::MacAddress& destination, std::uint16_t ether_type, std::size_t body_length,
                          std::uint8_t*& body);

  // Transmit stage (dpdk_transmit.cpp).
  // The destination MAC for a remote address, or false (counted, resolution asked).
  // `gateway` remembers the gateway's answer for the rest of one send_to_many():
  // a conference's off-link listeners all have it as next hop, and looking it up
  // again for each of 15,000 of them cost 2% of the worker.
  struct GatewayMemo {
    bool known = false;
    bool usable = false;
    packet::MacAddress mac{};
  };
  bool next_hop_mac(const sockaddr_storage& remote, packet::MacAddress& mac, std::int64_t now_us,
                    GatewayMemo& gateway);
  // IPv4: the neighbour table's MAC for hop, asking by ARP when unknown or stale.
  bool resolve_next_hop(const packet::Ipv4Address& hop, bool on_link, packet::MacAddress& mac, std::int64_t now_us);
  // Writes the Ethernet/IP/UDP headers for one destination; returns their length or 0.
  std::size_t write_headers(std::uint8_t* out, std::size_t room, const LocalPort& local,
                            const sockaddr_storage& remote, const packet::MacAddress& mac,
                            std::uint16_t payload_length, std::uint16_t payload_sum);
  // Control frames (ARP, ICMP, ND answers) wait in tx_ for flush_tx; media goes
  // straight out in transmit(), which returns how many the queue took or the
  // backlog kept; the rest it drops (tx_refused).
  void enqueue_tx(rte_mbuf* frame);
  void flush_tx();
  std::uint16_t transmit(rte_mbuf** frames, std::uint16_t count);
  // Offers the backlog to the TX ring, oldest first; true once it is empty.
  bool drain_backlog();
  // Each poll: drain the backlog, or drop it whole (tx_refused) once stale.
  void service_backlog(std::int64_t now_us);
  std::size_t drop_backlog();  // frees every frame in it; returns how many

  bool is_on_link(const packet::Ipv4Address& address) const;
  void learn(const sockaddr_storage& source, const packet::MacAddress& mac);

  std::shared_ptr<DpdkPort> port_;
  const PortAddressing& addressing_;
  std::uint16_t port_id_;
  std::uint16_t queue_;
  rte_mempool* packet_pool_;
  rte_mempool* header_pool_;
  rte_mempool* clone_pool_;
  bool chained_tx_;
  bool verify_udp_checksum_;
  bool rx_checksum_offload_;
  std::uint32_t idle_sleep_us_;
  rte_ring* handoff_;  // ours to drain; nullptr with a single queue

  std::vector<std::uint32_t> index_by_port_;  // 65536 entries: UDP port -> local port index
  std::vector<LocalPort> locals_;
  std::vector<std::uint32_t> free_indexes_;

  std::array<rte_mbuf*, kMaxHeld> held_{};  // frames behind the last burst's datagrams
  std::size_t held_count_ = 0;
  std::array<rte_mbuf*, kBurst> tx_{};
  std::uint16_t tx_count_ = 0;
  TxBacklog<rte_mbuf> backlog_;
  std::int64_t backlog_progress_us_ = 0;  // when the backlog last began or moved

  NeighbourTable neighbours_;

  std::int64_t now_us_ = 0;  // of the last receive burst: neighbours learned then
  TscClock clock_;
  DpdkCounters counters_;
};

}  // namespace mrfp::dataplane
