#include "dataplane/dpdk/dpdk_port.h"

#include <arpa/inet.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/dpdk/eal.h"

namespace mrfp::dataplane {

namespace {

// PMDs that take multi-segment frames but copy every frame's bytes on the CPU
// (into shared memory or a kernel ring). For them a chain buys nothing: the payload is copied per
// listener all the same, one segment at a time, after a clone and a refcount
// update each. Over net_memif at 15,000 G.711 listeners, flat frames took the
// worker's mixing load from 0.75-0.79 to 0.70 (bench/loadgen/README.md). NICs
// read the chain by DMA, where sharing the payload saves the copy.
bool copies_frames_in_software(const char* driver_name) {
  static constexpr std::string_view kCopying[] = {"net_memif", "net_af_packet", "net_tap"};
  const std::string_view driver = driver_name ? driver_name : "";
  return std::find(std::begin(kCopying), std::end(kCopying), driver) != std::end(kCopying);
}

// Room for the largest per-destination header: Ethernet + 802.1Q + IPv6 + UDP = 70 bytes.
constexpr std::uint16_t kHeaderDataRoom = 128;

std::string dpdk_error(int code) { return std::string(rte_strerror(code < 0 ? -code : code)); }

std::string mac_text(const packet::MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

// Pool sizes work best as 2^n - 1 (rte_mempool's ring holds one less than its size).
std::uint32_t pool_size(std::uint32_t wanted) { return std::bit_ceil(std::max<std::uint32_t>(wanted, 1024) + 1) - 1; }

Result<rte_mempool*> make_pool(const std::string& what, std::uint16_t port, std::uint32_t count,
                               std::uint16_t data_room, int socket) {
  static std::atomic<unsigned> serial{0};
  // Names are global to the process and pools outlive a closed DpdkPort (see the
  // destructor): a serial keeps a re-opened port's names unique.
  const std::string name = "mrfp_" + what + "_p" + std::to_string(port) + "_" + std::to_string(serial++);
  rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), pool_size(count), 256, 0, data_room, socket);
  if (pool == nullptr) {
    return Error{ErrorCode::ResourceExhausted, "mbuf pool " + name + " (" + std::to_string(pool_size(count)) +
                                                   " mbufs of " + std::to_string(data_room) + " bytes, socket " +
                                                   std::to_string(socket) + "): " + dpdk_error(rte_errno)};
  }
  return pool;
}

}  // namespace

Result<std::shared_ptr<DpdkPort>> DpdkPort::open(const DpdkPortConfig& config) {
  if (!eal_initialised()) return Error{ErrorCode::FailedPrecondition, "DPDK port: EAL is not initialised (init_eal)"};
  if (config.queues == 0 || config.queues > RTE_MAX_QUEUES_PER_PORT) {
    return Error{ErrorCode::InvalidArgument, "DPDK port: queues must be 1.." + std::to_string(RTE_MAX_QUEUES_PER_PORT)};
  }
  dpdk_log_type();  // registered here, on the opening thread (see dpdk_port.h)
  std::shared_ptr<DpdkPort> port(new DpdkPort(config));
  Status configured = port->configure();
  if (!configured) return configured.error();
  return port;
}

Status DpdkPort::configure() {
  // Which port.
  if (!config_.device.empty()) {
    if (rte_eth_dev_get_port_by_name(config_.device.c_str(), &port_id_) != 0) {
      return Error{ErrorCode::NotFound, "DPDK port: no ethdev named '" + config_.device + "' (" +
                                            std::to_string(rte_eth_dev_count_avail()) +
                                            " ports probed; check the --vdev/-a EAL arguments)"};
    }
  } else {
    port_id_ = config_.port_id;
    if (!rte_eth_dev_is_valid_port(port_id_)) {
      return Error{ErrorCode::NotFound, "DPDK port: port id " + std::to_string(port_id_) + " does not exist (" +
                                            std::to_string(rte_eth_dev_count_avail()) + " ports probed)"};
    }
  }
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port_id_, name);
  name_ = name;
  const std::string what = "DPDK port " + std::to_string(port_id_) + " (" + name_ + ")";

  // Addresses.
  if (config_.ipv4_address.empty() && config_.ipv6_address.empty()) {
    return Error{ErrorCode::InvalidArgument, what + ": neither ipv4_address nor ipv6_address is set"};
  }
  if (!config_.ipv4_address.empty()) {
    if (inet_pton(AF_INET, config_.ipv4_address.c_str(), addressing_.ipv4.data()) != 1) {
      return Error{ErrorCode::InvalidArgument, what + ": ipv4_address '" + config_.ipv4_address + "' is not IPv4"};
    }
    if (config_.ipv4_prefix_length > 32) {
      return Error{ErrorCode::InvalidArgument, what + ": ipv4_prefix_length above 32"};
    }
    addressing_.has_ipv4 = true;
    addressing_.ipv4_netmask =
        config_.ipv4_prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - config_.ipv4_prefix_length);
  }
  if (!config_.ipv4_gateway.empty()) {
    if (inet_pton(AF_INET, config_.ipv4_gateway.c_str(), addressing_.gateway.data()) != 1) {
      return Error{ErrorCode::InvalidArgument, what + ": ipv4_gateway '" + config_.ipv4_gateway + "' is not IPv4"};
    }
    addressing_.has_gateway = true;
  }
  addressing_.gateway_mac = config_.gateway_mac;
  if (!config_.ipv6_address.empty()) {
    if (inet_pton(AF_INET6, config_.ipv6_address.c_str(), addressing_.ipv6.data()) != 1) {
      return Error{ErrorCode::InvalidArgument, what + ": ipv6_address '" + config_.ipv6_address + "' is not IPv6"};
    }
    addressing_.has_ipv6 = true;
  }
  if (config_.vlan_id && *config_.vlan_id > 4094) {
    return Error{ErrorCode::InvalidArgument, what + ": vlan_id " + std::to_string(*config_.vlan_id) + " above 4094"};
  }
  addressing_.vlan_id = config_.vlan_id;

  // Capabilities.
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(port_id_, &info); rc != 0) {
    return Error{ErrorCode::Unavailable, what + ": rte_eth_dev_info_get: " + dpdk_error(rc)};
  }
  if (config_.queues > info.max_rx_queues || config_.queues > info.max_tx_queues) {
    return Error{ErrorCode::InvalidArgument, what + " (driver " + info.driver_name + ") has " +
                                                 std::to_string(info.max_rx_queues) + " RX / " +
                                                 std::to_string(info.max_tx_queues) + " TX queues, " +
                                                 std::to_string(config_.queues) + " workers asked for one pair each"};
  }
  const bool multi_segment = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
  switch (config_.replication) {
    case ReplicationMode::Auto: chained_tx_ = multi_segment && !copies_frames_in_software(info.driver_name); break;
    case ReplicationMode::Chained: chained_tx_ = true; break;
    case ReplicationMode::Copied: chained_tx_ = false; break;
  }
  constexpr std::uint64_t kRxChecksums = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  rx_checksum_offload_ = (info.rx_offload_capa & kRxChecksums) == kRxChecksums;

  rte_eth_conf conf{};
  conf.rxmode.mq_mode = config_.queues > 1 ? RTE_ETH_MQ_RX_RSS : RTE_ETH_MQ_RX_NONE;
  if (config_.queues > 1) {
    // Spread by addresses and ports; what the device cannot hash it does not get asked.
    conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (conf.rx_adv_conf.rss_conf.rss_hf == 0) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
  }
  if (rx_checksum_offload_) conf.rxmode.offloads |= kRxChecksums;
  if (chained_tx_ && multi_segment) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  const auto queues = static_cast<std::uint16_t>(config_.queues);
  if (const int rc = rte_eth_dev_configure(port_id_, queues, queues, &conf); rc != 0) {
    return Error{ErrorCode::Unavailable, what + ": rte_eth_dev_configure with " + std::to_string(queues) +
                                             " queue pairs: " + dpdk_error(rc)};
  }
  std::uint16_t rx_descriptors = config_.rx_descriptors, tx_descriptors = config_.tx_descriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &rx_descriptors, &tx_descriptors); rc != 0) {
    return Error{ErrorCode::Unavailable, what + ": rte_eth_dev_adjust_nb_rx_tx_desc: " + dpdk_error(rc)};
  }

  // Pools on the port's NUMA node (SOCKET_ID_ANY for virtual devices that have none).
  socket_ = rte_eth_dev_socket_id(port_id_);
  const int pool_socket = socket_ < 0 ? SOCKET_ID_ANY : socket_;
  const std::uint32_t per_queue =
      std::max<std::uint32_t>(config_.mbufs_per_queue, rx_descriptors + 512u) + config_.tx_backlog;
  auto packets = make_pool("pkt", port_id_, per_queue * config_.queues, RTE_MBUF_DEFAULT_BUF_SIZE, pool_socket);
  if (!packets) return Error{packets.error().code, what + ": " + packets.error().message};
  packet_pool_ = packets.value();
  auto headers = make_pool("hdr", port_id_, per_queue * config_.queues,
                           static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + kHeaderDataRoom), pool_socket);
  if (!headers) return Error{headers.error().code, what + ": " + headers.error().message};
  header_pool_ = headers.value();
  // Indirect mbufs carry no data of their own (rte_pktmbuf_attach points them at the payload).
  auto clones = make_pool("clone", port_id_, per_queue * config_.queues, 0, pool_socket);
  if (!clones) return Error{clones.error().code, what + ": " + clones.error().message};
  clone_pool_ = clones.value();

  for (std::uint16_t queue = 0; queue < queues; ++queue) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if (const int rc = rte_eth_rx_queue_setup(port_id_, queue, rx_descriptors, static_cast<unsigned>(pool_socket),
                                              &rxconf, packet_pool_);
        rc != 0) {
      return Error{ErrorCode::Unavailable, what + ": RX queue " + std::to_string(queue) + " setup (" +
                                               std::to_string(rx_descriptors) + " descriptors): " + dpdk_error(rc)};
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (const int rc = rte_eth_tx_queue_setup(port_id_, queue, tx_descriptors, static_cast<unsigned>(pool_socket),
                                              &txconf);
        rc != 0) {
      return Error{ErrorCode::Unavailable, what + ": TX queue " + std::to_string(queue) + " setup (" +
                                               std::to_string(tx_descriptors) + " descriptors): " + dpdk_error(rc)};
    }
  }

  if (config_.mac) {
    rte_ether_addr wanted{};
    std::memcpy(wanted.addr_bytes, config_.mac->data(), 6);
    if (const int rc = rte_eth_dev_default_mac_addr_set(port_id_, &wanted); rc != 0) {
      return Error{ErrorCode::Unavailable, what + ": setting MAC " + mac_text(*config_.mac) + ": " + dpdk_error(rc)};
    }
  }
  rte_ether_addr mac{};
  if (const int rc = rte_eth_macaddr_get(port_id_, &mac); rc != 0) {
    return Error{ErrorCode::Unavailable, what + ": rte_eth_macaddr_get: " + dpdk_error(rc)};
  }
  std::memcpy(addressing_.mac.data(), mac.addr_bytes, 6);

  if (const int rc = rte_eth_dev_start(port_id_); rc != 0) {
    return Error{ErrorCode::Unavailable, what + ": rte_eth_dev_start: " + dpdk_error(rc)};
  }
  started_ = true;
  // IPv6 neighbour solicitations go to a solicited-node multicast group (RFC 4861
  // §7.2.1); without a multicast filter API for it, take all multicast. Best effort.
  if (addressing_.has_ipv6) rte_eth_allmulticast_enable(port_id_);

  queue_taken_ = std::make_unique<std::atomic<bool>[]>(config_.queues);
  port_owner_ = std::make_unique<std::atomic<std::uint16_t>[]>(65536);
  if (config_.queues > 1) {
    static std::atomic<unsigned> serial{0};
    for (std::uint16_t queue = 0; queue < queues; ++queue) {
      const std::string ring_name = "mrfp_handoff_" + std::to_string(serial++);
      rte_ring* ring = rte_ring_create(ring_name.c_str(), 1024, pool_socket, RING_F_SC_DEQ);
      if (ring == nullptr) {
        return Error{ErrorCode::ResourceExhausted,
                     what + ": handoff ring for queue " + std::to_string(queue) + ": " + dpdk_error(rte_errno)};
      }
      handoff_.push_back(ring);
    }
  }
  return ok_status();
}

DpdkPort::~DpdkPort() {
  // Stopped, not closed: the device (e.g. a test's rte_eth_from_rings port) can be
  // configured again. A pool is freed only when every mbuf is back in it: a frame
  // still in flight elsewhere (a PMD that keeps its RX ring filled while stopped, a
  // consumer still holding what we sent) must not point into freed memory; such a
  // pool stays until EAL goes (rte_eal_cleanup or exit).
  if (started_) rte_eth_dev_stop(port_id_);
  for (rte_ring* ring : handoff_) {
    void* frame = nullptr;
    while (rte_ring_dequeue(ring, &frame) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(frame));
    rte_ring_free(ring);
  }
  for (rte_mempool* pool : {clone_pool_, header_pool_, packet_pool_}) {
    if (pool != nullptr && rte_mempool_full(pool)) rte_mempool_free(pool);
  }
}

Status DpdkPort::claim_queue(std::uint16_t queue) {
  if (queue >= config_.queues) {
    return Error{ErrorCode::InvalidArgument, "DPDK port " + name_ + ": queue " + std::to_string(queue) +
                                                 " beyond the " + std::to_string(config_.queues) + " configured"};
  }
  if (queue_taken_[queue].exchange(true)) {
    return Error{ErrorCode::FailedPrecondition,
                 "DPDK port " + name_ + ": queue " + std::to_string(queue) + " already belongs to a backend"};
  }
  return ok_status();
}

void DpdkPort::release_queue(std::uint16_t queue) {
  if (queue < config_.queues) queue_taken_[queue].store(false);
}

void DpdkPort::set_port_owner(std::uint16_t udp_port, std::uint16_t queue) {
  port_owner_[udp_port].store(static_cast<std::uint16_t>(queue + 1), std::memory_order_relaxed);
}

void DpdkPort::clear_port_owner(std::uint16_t udp_port, std::uint16_t queue) {
  auto owner = static_cast<std::uint16_t>(queue + 1);
  port_owner_[udp_port].compare_exchange_strong(owner, 0, std::memory_order_relaxed);
}

std::function<std::unique_ptr<PacketBackend>(unsigned worker)> dpdk_backend_factory(std::shared_ptr<DpdkPort> port) {
  return [port = std::move(port)](unsigned worker) -> std::unique_ptr<PacketBackend> {
    auto backend = DpdkBackend::create(port, static_cast<std::uint16_t>(worker));
    if (!backend) throw std::runtime_error("worker " + std::to_string(worker) + ": " + backend.error().message);
    return std::move(backend.value());
  };
}

Result<std::function<std::unique_ptr<PacketBackend>(unsigned worker)>> make_dpdk_backend_factory(
    const std::vector<std::string>& eal_args, DpdkPortConfig config, unsigned workers) {
  Status eal = init_eal(eal_args);
  if (!eal) return eal.error();
  if (config.device.empty() && rte_eth_dev_count_avail() == 0) {
    // A vdev that fails to probe still lets EAL come up, with no port (shared/dpdk.md).
    return Error{ErrorCode::NotFound, "DPDK: EAL is up but no ethdev was probed; check --vdev / -a"};
  }
  config.queues = workers;
  auto port = DpdkPort::open(config);
  if (!port) return port.error();
  return dpdk_backend_factory(std::move(port.value()));
}

}  // namespace mrfp::dataplane
