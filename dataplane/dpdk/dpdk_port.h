// One DPDK ethdev port shared by the workers: configured with one RX/TX queue
// pair per worker, mbuf pools on the port's NUMA socket, started, and the
// mixer's media addresses on it. Each worker's DpdkBackend takes one queue pair.
// Setup fails loudly: every error names the device, queue or pool and what
// DPDK said.
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/packet/addresses.h"
#include "dataplane/result.h"

namespace mrfp::dataplane {

class PacketBackend;

// How send_to_many builds each destination's frame.
enum class ReplicationMode {
  Auto,     // Chained when the PMD takes multi-segment frames and reads them by
            // DMA; Copied when it copies frames on the CPU anyway (memif, af_packet, tap)
  Chained,  // a header mbuf chained to an indirect clone of the one payload mbuf
  Copied,   // headers and payload copied into one mbuf per destination
};

struct DpdkPortConfig {
  // The ethdev by name ("net_ring0", "net_tap0", "0000:03:00.0"); empty: port_id.
  std::string device;
  std::uint16_t port_id = 0;
  unsigned queues = 1;  // RX/TX queue pairs: one per worker
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  // Packet mbufs per queue pair (the RX ring, frames held by the worker between
  // bursts, replicated payloads); header and clone mbufs are sized alike.
  std::uint32_t mbufs_per_queue = 4096;
  // Frames per queue the full TX ring refused, kept in order and offered again
  // before anything newer (tx_backlog.h); the pools grow by as many mbufs.
  std::uint32_t tx_backlog = 2048;

  std::string ipv4_address;           // the mixer's media address on this port
  std::uint8_t ipv4_prefix_length = 24;
  std::string ipv4_gateway;           // next hop for off-link destinations (resolved by ARP); optional
  std::optional<packet::MacAddress> gateway_mac;  // static MAC for off-link destinations; optional
  std::string ipv6_address;           // optional; on-link destinations only
  std::optional<std::uint16_t> vlan_id;  // 802.1Q tag on every frame; absent: untagged
  std::optional<packet::MacAddress> mac;  // set the port's MAC; absent: the device's own

  ReplicationMode replication = ReplicationMode::Auto;
  // When a poll finds nothing and the worker would wait (timeout_ms > 0), sleep
  // this long: 0 is pure polling (a dedicated core, lowest latency); the default
  // bounds the added latency to 100 µs and leaves a shared core usable.
  std::uint32_t idle_sleep_us = 100;
  bool verify_udp_checksum = true;  // in software unless the NIC says it checked
  std::size_t neighbour_capacity = 4096;
};

// The parsed, validated addressing every backend of the port uses.
struct PortAddressing {
  packet::MacAddress mac{};
  bool has_ipv4 = false;
  packet::Ipv4Address ipv4{};
  std::uint32_t ipv4_netmask = 0;  // host order
  bool has_gateway = false;
  packet::Ipv4Address gateway{};
  std::optional<packet::MacAddress> gateway_mac;
  bool has_ipv6 = false;
  packet::Ipv6Address ipv6{};
  std::optional<std::uint16_t> vlan_id;
};

class DpdkPort {
 public:
  // EAL must be up (init_eal). Configures and starts the port.
  static Result<std::shared_ptr<DpdkPort>> open(const DpdkPortConfig& config);
  ~DpdkPort();
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  std::uint16_t port_id() const { return port_id_; }
  const std::string& name() const { return name_; }
  unsigned queues() const { return config_.queues; }
  int socket() const { return socket_; }
  const DpdkPortConfig& config() const { return config_; }
  const PortAddressing& addressing() const { return addressing_; }
  bool chained_tx() const { return chained_tx_; }
  bool rx_checksum_offload() const { return rx_checksum_offload_; }
  rte_mempool* packet_pool() const { return packet_pool_; }  // RX and payloads
  rte_mempool* header_pool() const { return header_pool_; }  // per-destination headers
  rte_mempool* clone_pool() const { return clone_pool_; }    // indirect mbufs, no data room

  // Hands out queue pair `queue` once; FailedPrecondition when already taken.
  Status claim_queue(std::uint16_t queue);
  void release_queue(std::uint16_t queue);

  // Which queue opened each UDP port. Without an rte_flow rule for the port (the
  // device has no rte_flow, or refused it) a NIC spreads frames over the queues by
  // its RSS hash, which knows nothing of which worker owns which port: a frame landing
  // on another worker's queue is passed to the owner through the owner's handoff
  // ring (multi-producer, single-consumer; lock-free). Only with more than one queue.
  void set_port_owner(std::uint16_t udp_port, std::uint16_t queue);
  void clear_port_owner(std::uint16_t udp_port, std::uint16_t queue);  // only if queue owns it
  int port_owner(std::uint16_t udp_port) const {  // -1: nobody
    return static_cast<int>(port_owner_[udp_port].load(std::memory_order_relaxed)) - 1;
  }
  rte_ring* handoff_ring(std::uint16_t queue) const { return queue < handoff_.size() ? handoff_[queue] : nullptr; }

  // rte_flow steering (dpdk_flow.cpp): with more than one queue, each backend asks
  // the device to put its ports' frames on its own queue, so the handoff ring above
  // is only the fallback. Whether the device refused is remembered per address
  // family, so one refusal costs one rte_flow_validate, not one per opened port.
  bool flow_steering_refused(sa_family_t family) const {
    return flow_refused_[family == AF_INET6 ? 1 : 0].load(std::memory_order_relaxed);
  }
  // Marks the family (or both, when the device has no rte_flow at all) as refused;
  // the first refusal is logged at INFO with DPDK's reason.
  void refuse_flow_steering(sa_family_t family, bool whole_device, const std::string& reason);
  // Why the device refused ("" while it has not): for logs, tests and operators.
  std::string flow_refusal() const;
  // Whether the device ever made a rule of this family: a later create failing is then
  // about that rule, not the device (see dpdk_flow.cpp).
  void note_flow_rule_installed(sa_family_t family) {
    flow_installed_[family == AF_INET6 ? 1 : 0].store(true, std::memory_order_relaxed);
  }
  bool flow_rule_ever_installed(sa_family_t family) const {
    return flow_installed_[family == AF_INET6 ? 1 : 0].load(std::memory_order_relaxed);
  }

 private:
  explicit DpdkPort(const DpdkPortConfig& config) : config_(config) {}
  Status configure();

  DpdkPortConfig config_;
  std::uint16_t port_id_ = 0;
  std::string name_;
  int socket_ = 0;
  PortAddressing addressing_;
  bool chained_tx_ = false;
  bool rx_checksum_offload_ = false;
  bool started_ = false;
  rte_mempool* packet_pool_ = nullptr;
  rte_mempool* header_pool_ = nullptr;
  rte_mempool* clone_pool_ = nullptr;
  std::unique_ptr<std::atomic<bool>[]> queue_taken_;
  std::unique_ptr<std::atomic<std::uint16_t>[]> port_owner_;  // 65536 entries, queue + 1
  std::vector<rte_ring*> handoff_;                            // per queue, when queues > 1
  std::atomic<bool> flow_refused_[2] = {false, false};       // AF_INET, AF_INET6
  std::atomic<bool> flow_installed_[2] = {false, false};     // AF_INET, AF_INET6
  mutable std::mutex flow_refusal_mutex_;                     // guards flow_refusal_ (control path only)
  std::string flow_refusal_;
};

// The DPDK log type of this library, "mrfp.dpdk" (rte_log), so `--log-level
// mrfp.dpdk:info` in the EAL arguments governs it like any DPDK component. Registered
// on first use: DpdkPort::open makes that the opening thread, after EAL init (so
// --log-level patterns apply), never a worker racing another registration.
int dpdk_log_type();

// What DataplaneOptions::backend_factory wants: worker i gets queue pair i of port.
// The factory throws std::runtime_error (naming the queue) if the backend cannot be made.
std::function<std::unique_ptr<PacketBackend>(unsigned worker)> dpdk_backend_factory(
    std::shared_ptr<DpdkPort> port);

// The whole start-up for `mrfpd --dpdk -- <EAL args>`: init_eal(eal_args), open the
// port with config.queues = workers, and the factory above.
Result<std::function<std::unique_ptr<PacketBackend>(unsigned worker)>> make_dpdk_backend_factory(
    const std::vector<std::string>& eal_args, DpdkPortConfig config, unsigned workers);

}  // namespace mrfp::dataplane
