// The transmit stage: replication of one SRTP packet to many destinations as
// DPDK's multicast example does it. The payload is copied once into a packet
// mbuf; each destination gets a small header mbuf (Ethernet/IP/UDP) chained in
// front of an indirect mbuf attached to that payload (its refcount counts the
// destinations), so N listeners cost N header writes and no payload copy. The
// UDP checksum (RFC 768) is finished per destination from the payload's sum,
// computed once.
#include <arpa/inet.h>
#include <rte_branch_prediction.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/packet/bytes.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"
#include "dataplane/packet/udp.h"

namespace mrfp::dataplane {

namespace {

// RFC 1122 §2.3.2.1: no more than one ARP request per second per destination
// (RFC 4861 §7.2.2's RetransTimer for neighbour solicitations is one second too).
constexpr std::int64_t kSolicitIntervalUs = 1'000'000;

packet::Ipv4Address ipv4_of(const sockaddr_storage& address) {
  packet::Ipv4Address ip;
  std::memcpy(ip.data(), &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, 4);
  return ip;
}

packet::Ipv6Address ipv6_of(const sockaddr_storage& address) {
  packet::Ipv6Address ip;
  std::memcpy(ip.data(), &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, 16);
  return ip;
}

std::uint16_t port_of(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port)
                                       : ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

}  // namespace

void DpdkBackend::enqueue_tx(rte_mbuf* frame) {
  tx_[tx_count_++] = frame;
  if (tx_count_ == kBurst) flush_tx();
}

std::uint16_t DpdkBackend::transmit(rte_mbuf** frames, std::uint16_t count) {
  if (count == 0) return 0;
  // What the ring refused before goes first, so each listener's frames stay in order.
  const std::uint16_t sent = drain_backlog() ? rte_eth_tx_burst(port_id_, queue_, frames, count) : 0;
  counters_.tx_frames += sent;
  if (likely(sent == count)) return sent;
  // The ring is full: keep what the backlog has room for and never spin; drop the
  // rest (freeing a chained frame drops its reference on the shared payload).
  if (backlog_.empty()) backlog_progress_us_ = clock_.now_us();
  const auto kept = static_cast<std::uint16_t>(backlog_.push({frames + sent, static_cast<std::size_t>(count - sent)}));
  counters_.tx_backlogged += kept;
  const std::uint16_t dropped = count - sent - kept;
  if (unlikely(dropped > 0)) {
    counters_.tx_refused += dropped;
    rte_pktmbuf_free_bulk(frames + sent + kept, dropped);
  }
  return sent + kept;
}

bool DpdkBackend::drain_backlog() {
  while (!backlog_.empty()) {
    const std::span<rte_mbuf*> oldest = backlog_.oldest();
    const auto offered = static_cast<std::uint16_t>(std::min<std::size_t>(oldest.size(), UINT16_MAX));
    const std::uint16_t taken = rte_eth_tx_burst(port_id_, queue_, oldest.data(), offered);
    counters_.tx_frames += taken;
    backlog_.pop(taken);
    if (taken > 0) backlog_progress_us_ = clock_.now_us();
    if (taken < offered) return false;
  }
  return true;
}

void DpdkBackend::service_backlog(std::int64_t now_us) {
  if (drain_backlog() || now_us - backlog_progress_us_ < kBacklogStaleUs) return;
  counters_.tx_refused += drop_backlog();
}

std::size_t DpdkBackend::drop_backlog() {
  std::size_t dropped = 0;
  while (!backlog_.empty()) {
    const std::span<rte_mbuf*> oldest = backlog_.oldest();
    rte_pktmbuf_free_bulk(oldest.data(), static_cast<unsigned>(oldest.size()));
    backlog_.pop(oldest.size());
    dropped += oldest.size();
  }
  return dropped;
}

void DpdkBackend::flush_tx() {
  transmit(tx_.data(), tx_count_);
  tx_count_ = 0;
}

bool DpdkBackend::next_hop_mac(const sockaddr_storage& remote, packet::MacAddress& mac, std::int64_t now_us,
                               GatewayMemo& gateway) {
  if (remote.ss_family == AF_INET6) {
    const packet::Ipv6Address ip = ipv6_of(remote);
    const NeighbourTable::Lookup found = neighbours_.find(ip, mac, now_us);
    if (likely(found == NeighbourTable::Lookup::Reachable)) return true;
    // On-link only (no IPv6 router is configured): solicit; drop meanwhile unless a
    // stale address is known, which RFC 4861 §7.3.3 has us keep using.
    if (neighbours_.may_solicit(ip, now_us, kSolicitIntervalUs)) send_neighbour_solicitation(ip);
    if (found == NeighbourTable::Lookup::Stale) return true;
    ++counters_.tx_unresolved;
    return false;
  }
  const packet::Ipv4Address ip = ipv4_of(remote);
  const bool on_link = is_on_link(ip);
  if (!on_link && addressing_.gateway_mac) {
    mac = *addressing_.gateway_mac;
    return true;
  }
  const bool via_gateway = !on_link && addressing_.has_gateway;
  if (via_gateway && gateway.known) {
    mac = gateway.mac;
    if (!gateway.usable) ++counters_.tx_unresolved;
    return gateway.usable;
  }
  const bool usable = resolve_next_hop(via_gateway ? addressing_.gateway : ip, on_link, mac, now_us);
  if (via_gateway) gateway = {true, usable, mac};
  return usable;
}

bool DpdkBackend::resolve_next_hop(const packet::Ipv4Address& hop, bool on_link, packet::MacAddress& mac,
                                   std::int64_t now_us) {
  const packet::Ipv6Address key = neighbour_key(hop);
  const NeighbourTable::Lookup found = neighbours_.find(key, mac, now_us);
  if (likely(found == NeighbourTable::Lookup::Reachable)) return true;
  // Unknown: ask (RFC 826) and drop this packet; the next one, 20 ms later, finds the
  // answer. Stale: ask, and keep sending to the MAC we have meanwhile. An off-link
  // address without a gateway is only ever learned from its frames.
  if ((on_link || addressing_.has_gateway) && neighbours_.may_solicit(key, now_us, kSolicitIntervalUs)) {
    send_arp_request(hop);
  }
  if (found == NeighbourTable::Lookup::Stale) return true;
  ++counters_.tx_unresolved;
  return false;
}

std::size_t DpdkBackend::write_headers(std::uint8_t* out, std::size_t room, const LocalPort& local,
                                       const sockaddr_storage& remote, const packet::MacAddress& mac,
                                       std::uint16_t payload_length, std::uint16_t payload_sum) {
  const bool v4 = remote.ss_family == AF_INET;
  packet::EthernetHeaderFields ethernet;
  ethernet.destination = mac;
  ethernet.source = addressing_.mac;
  ethernet.ether_type = v4 ? packet::ether_type::kIpv4 : packet::ether_type::kIpv6;
  ethernet.vlan_tagged = addressing_.vlan_id.has_value();
  ethernet.vlan_tci = addressing_.vlan_id.value_or(0);
  const packet::BuildResult link = packet::build_ethernet_header({out, room}, ethernet);
  if (unlikely(!link)) return 0;
  std::size_t length = link.length;

  const auto udp_length = static_cast<std::uint16_t>(packet::kUdpHeaderLength + payload_length);
  packet::InternetChecksum sum;
  packet::BuildResult network;
  if (v4) {
    packet::Ipv4HeaderFields ip;
    ip.source = addressing_.ipv4;
    ip.destination = ipv4_of(remote);
    ip.payload_length = udp_length;
    network = packet::build_ipv4_header({out + length, room - length}, ip);
    sum = packet::udp_pseudo_header_sum(ip.source, ip.destination, udp_length);
  } else {
    packet::Ipv6HeaderFields ip;
    ip.source = addressing_.ipv6;
    ip.destination = ipv6_of(remote);
    ip.payload_length = udp_length;
    network = packet::build_ipv6_header({out + length, room - length}, ip);
    sum = packet::udp_pseudo_header_sum(ip.source, ip.destination, udp_length);
  }
  if (unlikely(!network)) return 0;
  length += network.length;

  std::uint8_t* udp = out + length;
  const packet::BuildResult transport =
      packet::build_udp_header({udp, room - length}, {local.port, port_of(remote), payload_length});
  if (unlikely(!transport)) return 0;
  length += transport.length;
  // Pseudo-header + header (checksum field zero) + the payload's folded sum: the
  // payload starts at an even offset, so its sum adds as one 16-bit word.
  sum.add({udp, packet::kUdpHeaderLength});
  sum.add_u16(payload_sum);
  const std::uint16_t checksum = sum.finish();
  packet::store_be16(udp + 6, checksum == 0 ? 0xFFFF : checksum);  // RFC 768: 0 means "none"
  return length;
}

std::size_t DpdkBackend::send_to_many(std::span<const std::uint8_t> bytes, std::span<const Destination> destinations) {
  if (destinations.empty()) return 0;
  std::size_t sent = 0;
  // Room for the largest headers in front of the payload in the copied mode.
  constexpr std::size_t kMaxHeaders = packet::kEthernetHeaderLength + packet::kVlanTagLength +
                                      packet::kIpv6HeaderLength + packet::kUdpHeaderLength;
  if (unlikely(bytes.size() + kMaxHeaders > RTE_MBUF_DEFAULT_DATAROOM)) {
    counters_.tx_too_large += destinations.size();
    return 0;
  }
  const auto payload_length = static_cast<std::uint16_t>(bytes.size());
  // The payload's ones' complement sum, once for every destination.
  const auto payload_sum = static_cast<std::uint16_t>(~packet::internet_checksum(bytes));

  rte_mbuf* payload = nullptr;
  if (chained_tx_) {
    payload = rte_pktmbuf_alloc(packet_pool_);
    if (unlikely(payload == nullptr)) {
      counters_.tx_no_mbuf += destinations.size();
      return 0;
    }
    std::memcpy(rte_pktmbuf_append(payload, payload_length), bytes.data(), bytes.size());
    counters_.tx_payload_bytes_copied += bytes.size();
  }

  // Chunks of one TX burst: resolve, allocate in bulk, write headers, queue.
  std::array<const Destination*, kBurst> resolved;
  std::array<packet::MacAddress, kBurst> macs;
  const std::int64_t now_us = clock_.now_us();
  GatewayMemo gateway;
  std::array<rte_mbuf*, kBurst> headers;
  std::array<rte_mbuf*, kBurst> clones;
  for (std::size_t first = 0; first < destinations.size(); first += kBurst) {
    const std::size_t end = std::min(destinations.size(), first + kBurst);
    unsigned count = 0;
    for (std::size_t i = first; i < end; ++i) {
      const Destination& destination = destinations[i];
      if (unlikely(destination.local_port_index >= locals_.size() ||
                   locals_[destination.local_port_index].family != destination.remote.ss_family)) {
        ++counters_.tx_bad_destination;
        continue;
      }
      if (!next_hop_mac(destination.remote, macs[count], now_us, gateway)) continue;
      resolved[count++] = &destination;
    }
    if (count == 0) continue;
    rte_mempool* header_pool = chained_tx_ ? header_pool_ : packet_pool_;
    if (unlikely(rte_pktmbuf_alloc_bulk(header_pool, headers.data(), count) != 0)) {
      counters_.tx_no_mbuf += count;
      continue;
    }
    if (chained_tx_ && unlikely(rte_pktmbuf_alloc_bulk(clone_pool_, clones.data(), count) != 0)) {
      rte_pktmbuf_free_bulk(headers.data(), count);
      counters_.tx_no_mbuf += count;
      continue;
    }
    std::uint16_t built = 0;  // compacted into headers[0, built)
    for (unsigned i = 0; i < count; ++i) {
      rte_mbuf* frame = headers[i];
      const Destination& destination = *resolved[i];
      auto* out = rte_pktmbuf_mtod(frame, std::uint8_t*);
      const std::size_t length =
          write_headers(out, rte_pktmbuf_tailroom(frame), locals_[destination.local_port_index], destination.remote,
                        macs[i], payload_length, payload_sum);
      if (unlikely(length == 0)) {  // cannot happen with kHeaderDataRoom; never send a headerless frame
        rte_pktmbuf_free(frame);
        if (chained_tx_) rte_pktmbuf_free(clones[i]);
        ++counters_.tx_bad_destination;
        continue;
      }
      frame->data_len = static_cast<std::uint16_t>(length);
      frame->pkt_len = static_cast<std::uint32_t>(length);
      if (chained_tx_) {
        // The clone shares the payload's data and raises its refcount by one.
        rte_pktmbuf_attach(clones[i], payload);
        rte_pktmbuf_chain(frame, clones[i]);
      } else {
        std::memcpy(rte_pktmbuf_append(frame, payload_length), bytes.data(), bytes.size());
        counters_.tx_payload_bytes_copied += bytes.size();
      }
      headers[built++] = frame;
    }
    sent += transmit(headers.data(), built);
  }
  flush_tx();  // ARP requests asked for on the way
  // Our own reference: the payload returns to its pool when the last clone is sent.
  if (payload != nullptr) rte_pktmbuf_free(payload);
  return sent;
}

}  // namespace mrfp::dataplane
