#include "dataplane/dpdk/dpdk_backend.h"

#include <arpa/inet.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstring>

namespace mrfp::dataplane {

Result<std::unique_ptr<DpdkBackend>> DpdkBackend::create(std::shared_ptr<DpdkPort> port, std::uint16_t queue) {
  if (!port) return Error{ErrorCode::InvalidArgument, "DpdkBackend: no port"};
  Status claimed = port->claim_queue(queue);
  if (!claimed) return claimed.error();
  return std::unique_ptr<DpdkBackend>(new DpdkBackend(std::move(port), queue));
}

DpdkBackend::DpdkBackend(std::shared_ptr<DpdkPort> port, std::uint16_t queue)
    : port_(std::move(port)),
      addressing_(port_->addressing()),
      port_id_(port_->port_id()),
      queue_(queue),
      packet_pool_(port_->packet_pool()),
      header_pool_(port_->header_pool()),
      clone_pool_(port_->clone_pool()),
      chained_tx_(port_->chained_tx()),
      verify_udp_checksum_(port_->config().verify_udp_checksum),
      rx_checksum_offload_(port_->rx_checksum_offload()),
      idle_sleep_us_(port_->config().idle_sleep_us),
      handoff_(port_->handoff_ring(queue)),
      index_by_port_(65536, kNoIndex),
      backlog_(port_->config().tx_backlog),
      neighbours_(port_->config().neighbour_capacity) {
  locals_.reserve(1024);
  free_indexes_.reserve(1024);
}

DpdkBackend::~DpdkBackend() {
  release_held();
  flush_tx();
  drop_backlog();
  // A worker stopped with participants still in it: their rules go with the queue,
  // so a backend made later on this queue (or another) does not find them in its way.
  for (LocalPort& local : locals_) stop_steering(local);
  // What the ring refused on the last flush is freed there; nothing else is held.
  port_->release_queue(queue_);
}

void DpdkBackend::attach_worker_thread() {
  // A thread without an lcore id allocates and frees every mbuf through the
  // mempool's shared ring, without the per-lcore cache.
  if (rte_lcore_id() == LCORE_ID_ANY && rte_thread_register() != 0) return;
  // The queue-th worker lcore of EAL's -l list (after the main lcore), if any.
  unsigned lcore = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
  for (std::uint16_t i = 0; i < queue_ && lcore < RTE_MAX_LCORE; ++i) lcore = rte_get_next_lcore(lcore, 1, 0);
  if (lcore >= RTE_MAX_LCORE) return;
  rte_cpuset_t cores = rte_lcore_cpuset(lcore);
  rte_thread_set_affinity(&cores);
}

Result<OpenedSocket> DpdkBackend::open_in_range(const std::string& local_address, PortAllocator& ports) {
  std::optional<Endpoint> local = Endpoint::parse(local_address, 0);
  if (!local) return Error{ErrorCode::InvalidArgument, "local address '" + local_address + "' is not an IP address"};
  const sa_family_t family = local->address.ss_family;
  const bool ours =
      family == AF_INET
          ? addressing_.has_ipv4 && std::memcmp(&reinterpret_cast<const sockaddr_in*>(&local->address)->sin_addr,
                                                addressing_.ipv4.data(), 4) == 0
          : addressing_.has_ipv6 && std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&local->address)->sin6_addr,
                                                addressing_.ipv6.data(), 16) == 0;
  if (!ours) {
    return Error{ErrorCode::InvalidArgument, "local address '" + local_address + "' is not an address of DPDK port " +
                                                 port_->name() + " (configure it as ipv4_address/ipv6_address)"};
  }
  Result<std::uint16_t> port = ports.allocate();
  if (!port) return port.error();
  const std::uint16_t number = port.value();
  if (index_by_port_[number] != kNoIndex) {
    // The allocator is shared by all workers and never hands a port out twice.
    ports.release(number);
    return Error{ErrorCode::Internal, "UDP port " + std::to_string(number) + " is already open on queue " +
                                          std::to_string(queue_)};
  }
  std::uint32_t index;
  if (!free_indexes_.empty()) {
    index = free_indexes_.back();
    free_indexes_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(locals_.size());
    locals_.push_back({});
  }
  locals_[index] = LocalPort{number, family};
  index_by_port_[number] = index;
  port_->set_port_owner(number, queue_);
  // Owner first, rule second: until the device steers, the hand-off already routes
  // the port's frames here. One queue: nothing to steer (handoff_ is null then).
  if (handoff_ != nullptr) steer_to_this_queue(locals_[index]);

  OpenedSocket opened;
  opened.index = index;
  opened.local = *local;
  if (family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&opened.local.address)->sin_port = htons(number);
  } else {
    reinterpret_cast<sockaddr_in6*>(&opened.local.address)->sin6_port = htons(number);
  }
  return opened;
}

Status DpdkBackend::close(std::uint32_t index, PortAllocator* ports) {
  if (index >= locals_.size() || locals_[index].family == AF_UNSPEC) {
    return Error{ErrorCode::NotFound, "local port index " + std::to_string(index) + " is not open"};
  }
  const std::uint16_t number = locals_[index].port;
  stop_steering(locals_[index]);
  index_by_port_[number] = kNoIndex;
  port_->clear_port_owner(number, queue_);
  locals_[index] = LocalPort{};
  free_indexes_.push_back(index);
  if (ports != nullptr) ports->release(number);
  return ok_status();
}

bool DpdkBackend::is_on_link(const packet::Ipv4Address& address) const {
  std::uint32_t ours, theirs;
  std::memcpy(&ours, addressing_.ipv4.data(), 4);
  std::memcpy(&theirs, address.data(), 4);
  return ((ntohl(ours) ^ ntohl(theirs)) & addressing_.ipv4_netmask) == 0;
}

void DpdkBackend::learn(const sockaddr_storage& source, const packet::MacAddress& mac) {
  if (source.ss_family == AF_INET) {
    packet::Ipv4Address ip;
    std::memcpy(ip.data(), &reinterpret_cast<const sockaddr_in*>(&source)->sin_addr, 4);
    // An off-link sender's frames carry the router's MAC: learn it only when there is no
    // configured way off the link (then "reply the way it came" is the only route we know).
    if (is_on_link(ip) || (!addressing_.has_gateway && !addressing_.gateway_mac)) {
      neighbours_.learn(neighbour_key(ip), mac, now_us_);
    }
  } else if (source.ss_family == AF_INET6) {
    packet::Ipv6Address ip;
    std::memcpy(ip.data(), &reinterpret_cast<const sockaddr_in6*>(&source)->sin6_addr, 16);
    neighbours_.learn(ip, mac, now_us_);
  }
}

void DpdkBackend::add_neighbour(const sockaddr_storage& address, const packet::MacAddress& mac) {
  if (address.ss_family == AF_INET) {
    packet::Ipv4Address ip;
    std::memcpy(ip.data(), &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, 4);
    neighbours_.add_permanent(neighbour_key(ip), mac);
  } else if (address.ss_family == AF_INET6) {
    packet::Ipv6Address ip;
    std::memcpy(ip.data(), &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, 16);
    neighbours_.add_permanent(ip, mac);
  }
}

void DpdkBackend::report_io_counters(std::vector<IoCounter>& out) const {
  struct Field {
    const char* name;
    const char* help;
    std::uint64_t DpdkCounters::*member;
  };
  static constexpr Field kFields[] = {
      {"rx_frames", "Frames received from the RX queue.", &DpdkCounters::rx_frames},
      {"rx_delivered", "UDP datagrams to an open port, handed to the worker.", &DpdkCounters::rx_delivered},
      {"rx_closed_port", "UDP to our address on a port nobody has open.", &DpdkCounters::rx_closed_port},
      {"rx_not_for_us", "IP to another address, or another VLAN.", &DpdkCounters::rx_not_for_us},
      {"rx_truncated", "Frames shorter than their headers or length fields say.", &DpdkCounters::rx_truncated},
      {"rx_bad_checksum", "IPv4 header, UDP or ICMP checksum wrong.", &DpdkCounters::rx_bad_checksum},
      {"rx_fragment", "IPv4 and IPv6 fragments, dropped (never reassembled).", &DpdkCounters::rx_fragment},
      {"rx_malformed", "Bad IP version, header length or extension chain.", &DpdkCounters::rx_malformed},
      {"rx_unsupported", "Other EtherTypes, IP protocols and ICMP types.", &DpdkCounters::rx_unsupported},
      {"rx_multi_segment", "Scattered frames, dropped.", &DpdkCounters::rx_multi_segment},
      {"rx_handed_off", "Datagrams for another worker's port, passed to its queue.", &DpdkCounters::rx_handed_off},
      {"rx_handoff_dropped", "Datagrams for another worker dropped: its hand-off ring was full.",
       &DpdkCounters::rx_handoff_dropped},
      {"rx_from_other_queues", "Datagrams other workers passed to this one.", &DpdkCounters::rx_from_other_queues},
      {"rx_arp_requests", "ARP requests for our address, answered.", &DpdkCounters::rx_arp_requests},
      {"rx_arp_replies", "ARP replies learned from.", &DpdkCounters::rx_arp_replies},
      {"rx_arp_other", "ARP for other addresses, or unparseable.", &DpdkCounters::rx_arp_other},
      {"rx_icmp_echo", "ICMP and ICMPv6 echo requests answered.", &DpdkCounters::rx_icmp_echo},
      {"rx_neighbour_solicitations", "IPv6 neighbour solicitations for our address, answered.",
       &DpdkCounters::rx_neighbour_solicitations},
      {"tx_frames", "Frames the TX queue accepted.", &DpdkCounters::tx_frames},
      {"tx_backlogged", "Frames the full TX ring refused, kept and sent later in order.", &DpdkCounters::tx_backlogged},
      {"tx_refused", "Frames dropped: the TX ring and its backlog were full, or the backlog went stale.",
       &DpdkCounters::tx_refused},
      {"tx_no_mbuf", "Frames not sent: an mbuf pool ran dry.", &DpdkCounters::tx_no_mbuf},
      {"tx_unresolved", "Frames not sent: next hop MAC unknown (resolution asked).", &DpdkCounters::tx_unresolved},
      {"tx_arp_requests", "ARP requests and neighbour solicitations sent.", &DpdkCounters::tx_arp_requests},
      {"tx_bad_destination", "Frames not sent: port index not open, or address family mismatch.",
       &DpdkCounters::tx_bad_destination},
      {"tx_too_large", "Frames not sent: payload beyond one mbuf.", &DpdkCounters::tx_too_large},
      {"tx_control", "ARP, ICMP and neighbour advertisement answers sent.", &DpdkCounters::tx_control},
      {"tx_payload_bytes_copied", "Payload bytes written into mbufs (once per output frame when chained).",
       &DpdkCounters::tx_payload_bytes_copied},
      {"flow_rules_installed", "rte_flow rules steering a port to this queue.", &DpdkCounters::flow_rules_installed},
      {"flow_rules_refused", "Ports the device would not steer (left to the hand-off).",
       &DpdkCounters::flow_rules_refused},
      {"flow_rules_destroy_failed", "rte_flow_destroy failures (the hand-off still routes right).",
       &DpdkCounters::flow_rules_destroy_failed},
  };
  for (const Field& field : kFields) out.push_back({field.name, field.help, counters_.*field.member});
}

}  // namespace mrfp::dataplane
