// The receive stage: one poll of the worker's RX queue, each frame parsed down
// to UDP with the project's parsers and either handed over as a datagram (zero
// copy), answered (ARP, ICMP, ND) or counted and freed.
#include <arpa/inet.h>
#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/packet/bytes.h"
#include "dataplane/packet/ethernet.h"
#include "dataplane/packet/ipv4.h"
#include "dataplane/packet/ipv6.h"
#include "dataplane/packet/udp.h"

namespace mrfp::dataplane {

namespace {

// RFC 4291 §2.7.1: ff02::1:ffXX:XXXX, the solicited-node group of an address.
bool is_solicited_node_of(const packet::Ipv6Address& group, const packet::Ipv6Address& ours) {
  static constexpr std::uint8_t kPrefix[13] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF};
  return std::memcmp(group.data(), kPrefix, sizeof kPrefix) == 0 &&
         std::memcmp(group.data() + 13, ours.data() + 13, 3) == 0;
}

}  // namespace

void DpdkBackend::release_held() {
  if (held_count_ == 0) return;
  rte_pktmbuf_free_bulk(held_.data(), static_cast<unsigned>(held_count_));
  held_count_ = 0;
}

namespace {
constexpr std::uint16_t kPrefetchAhead = 8;
// The frame's bytes were asked for kPrefetchAhead frames before: by these
// distances its header is in, and then the port index it names.
constexpr std::uint16_t kPortPrefetchAhead = 4;
constexpr std::uint16_t kLocalPrefetchAhead = 2;

void prefetch_frame(const rte_mbuf* frame) {
  const auto* bytes = rte_pktmbuf_mtod(frame, const char*);
  const std::uint32_t length = std::min<std::uint32_t>(frame->data_len, 4 * RTE_CACHE_LINE_SIZE);
  for (std::uint32_t at = 0; at < length; at += RTE_CACHE_LINE_SIZE) rte_prefetch0(bytes + at);
}

// The UDP destination port of an untagged IPv4 or IPv6 frame, 0 for any other:
// a guess for prefetching, which classify() then checks properly.
std::uint16_t guess_destination_port(const rte_mbuf* frame) {
  if (frame->data_len < packet::kEthernetHeaderLength) return 0;
  const auto* bytes = rte_pktmbuf_mtod(frame, const std::uint8_t*);
  const std::uint16_t ether_type = packet::load_be16(bytes + 12);
  std::size_t at = 0;
  if (ether_type == packet::ether_type::kIpv4 && frame->data_len >= 14 + 20 + 8) {
    at = 14 + std::size_t{bytes[14] & 0x0Fu} * 4 + 2;
  } else if (ether_type == packet::ether_type::kIpv6) {
    at = 14 + 40 + 2;
  }
  return at != 0 && at + 2 <= frame->data_len ? packet::load_be16(bytes + at) : 0;
}
}  // namespace

// At thousands of ports the port -> index table and the local ports no longer
// stay in the cache between ticks (the frames copied each tick push them
// out), and deliver_udp() waited on both, one after the other: 6% of the
// worker at 15,000 participants (perf annotate, 60 s memif run). So they are
// asked for a few frames ahead, the index first, the entry it names after.
void DpdkBackend::prefetch_port_index(std::uint16_t port) const {
  if (port != 0) __builtin_prefetch(&index_by_port_[port]);
}

void DpdkBackend::prefetch_local_port(std::uint16_t port) const {
  if (port == 0) return;
  if (const std::uint32_t index = index_by_port_[port]; index != kNoIndex) __builtin_prefetch(&locals_[index]);
}

std::size_t DpdkBackend::receive_burst(ReceiveBurst& burst, int timeout_ms) {
  // The previous burst's datagrams are the worker's no longer (valid until the next call).
  release_held();
  burst.clear();
  const std::size_t room = std::min(burst.capacity(), kMaxHeld);
  const std::int64_t now_us = clock_.now_us();
  now_us_ = now_us;
  if (unlikely(!backlog_.empty())) service_backlog(now_us);
  std::array<rte_mbuf*, kBurst> frames;
  std::size_t polled = 0;
  if (handoff_ != nullptr) {
    // First what other workers' queues received for our ports.
    const auto want = static_cast<unsigned>(std::min<std::size_t>(kBurst, room));
    const unsigned count = rte_ring_sc_dequeue_burst(handoff_, reinterpret_cast<void**>(frames.data()), want, nullptr);
    counters_.rx_from_other_queues += count;
    polled += count;
    for (unsigned i = 0; i < count; ++i) classify(frames[i], burst, now_us, true);
  }
  // At most two rx_bursts: enough to fill the worker's burst of 64 without
  // starving its command queue and ticks. Never ask for more frames than there is
  // room for datagrams, so every UDP frame found has a slot.
  for (int poll = 0; poll < 2 && burst.size() < room; ++poll) {
    const auto want = static_cast<std::uint16_t>(std::min<std::size_t>(kBurst, room - burst.size()));
    const std::uint16_t count = rte_eth_rx_burst(port_id_, queue_, frames.data(), want);
    polled += count;
    // Two stages, as DPDK's l3fwd does: every mbuf header of the burst, then each
    // frame's bytes (all of them: the UDP checksum reads them) a few frames ahead
    // of the one classified, so the memory waits overlap instead of adding up.
    for (std::uint16_t i = 0; i < count; ++i) rte_prefetch0(frames[i]);
    for (std::uint16_t i = 0; i < std::min<std::uint16_t>(count, kPrefetchAhead); ++i) prefetch_frame(frames[i]);
    std::array<std::uint16_t, kBurst> ports{};  // guessed once per frame, used by both port prefetches; 0: none
    for (std::uint16_t i = 0; i < count; ++i) {
      if (i + kPrefetchAhead < count) prefetch_frame(frames[i + kPrefetchAhead]);
      if (i + kPortPrefetchAhead < count) {
        ports[i + kPortPrefetchAhead] = guess_destination_port(frames[i + kPortPrefetchAhead]);
        prefetch_port_index(ports[i + kPortPrefetchAhead]);
      }
      if (i + kLocalPrefetchAhead < count) prefetch_local_port(ports[i + kLocalPrefetchAhead]);
      classify(frames[i], burst, now_us, false);
    }
    if (count < want) break;
  }
  flush_tx();  // ARP/ICMP answers made while classifying
  if (polled == 0 && timeout_ms > 0 && idle_sleep_us_ > 0) {
    // Idle and the worker would wait: give the core away briefly instead of
    // spinning (see DpdkPortConfig::idle_sleep_us). Never taken while packets flow.
    const timespec pause{0, static_cast<long>(std::min<std::int64_t>(idle_sleep_us_, timeout_ms * 1000LL)) * 1000};
    nanosleep(&pause, nullptr);
  }
  return burst.size();
}

void DpdkBackend::count_parse_error(packet::ParseError error) {
  using packet::ParseError;
  switch (error) {
    case ParseError::Truncated:
    case ParseError::BadTotalLength: ++counters_.rx_truncated; break;
    case ParseError::BadChecksum: ++counters_.rx_bad_checksum; break;
    case ParseError::Fragment: ++counters_.rx_fragment; break;
    case ParseError::UnsupportedEtherType:
    case ParseError::UnsupportedProtocol:
    case ParseError::UnsupportedArp:
    case ParseError::UnsupportedIcmpType: ++counters_.rx_unsupported; break;
    default: ++counters_.rx_malformed; break;
  }
}

bool DpdkBackend::hand_off(rte_mbuf* frame, std::uint16_t udp_port) {
  const int owner = port_->port_owner(udp_port);
  if (owner < 0 || owner == queue_) return false;
  if (likely(rte_ring_mp_enqueue(port_->handoff_ring(static_cast<std::uint16_t>(owner)), frame) == 0)) {
    ++counters_.rx_handed_off;
  } else {
    ++counters_.rx_handoff_dropped;
    rte_pktmbuf_free(frame);
  }
  return true;
}

void DpdkBackend::share_with_other_queues(rte_mbuf* frame) {
  for (std::uint16_t queue = 0; queue < port_->queues(); ++queue) {
    if (queue == queue_) continue;
    rte_mbuf_refcnt_update(frame, 1);  // read-only from here on: every reader parses, nobody writes
    if (rte_ring_mp_enqueue(port_->handoff_ring(queue), frame) != 0) rte_pktmbuf_free(frame);
  }
}

bool DpdkBackend::classify(rte_mbuf* frame, ReceiveBurst& burst, std::int64_t now_us, bool handed) {
  if (!handed) ++counters_.rx_frames;
  if (unlikely(frame->nb_segs != 1)) {
    ++counters_.rx_multi_segment;
    rte_pktmbuf_free(frame);
    return false;
  }
  const std::span<const std::uint8_t> bytes(rte_pktmbuf_mtod(frame, const std::uint8_t*), frame->data_len);
  const packet::ParseResult<packet::EthernetFrame> ethernet = packet::parse_ethernet(bytes);
  if (unlikely(!ethernet)) {
    count_parse_error(ethernet.error());
    rte_pktmbuf_free(frame);
    return false;
  }
  const bool vlan_ok = addressing_.vlan_id ? ethernet->vlan_tag_count == 1 &&
                                                 ethernet->outer_vlan_id() == *addressing_.vlan_id
                                           : ethernet->vlan_tag_count == 0;
  if (unlikely(!vlan_ok)) {
    ++counters_.rx_not_for_us;
    rte_pktmbuf_free(frame);
    return false;
  }

  if (likely(ethernet->ether_type == packet::ether_type::kIpv4 && addressing_.has_ipv4)) {
    const packet::ParseResult<packet::Ipv4Packet> ip = packet::parse_ipv4(ethernet->payload);
    if (unlikely(!ip)) {
      count_parse_error(ip.error());
    } else if (unlikely(ip->destination != addressing_.ipv4)) {
      ++counters_.rx_not_for_us;
    } else if (likely(ip->protocol == packet::ip_protocol::kUdp)) {
      const packet::ParseResult<packet::UdpDatagram> udp = packet::parse_udp(ip->payload);
      if (unlikely(!udp)) {
        count_parse_error(udp.error());
      } else {
        // RFC 768: the checksum covers a pseudo-header, the header and the data. Trust the
        // NIC when it says it checked; otherwise check here.
        const std::uint64_t l4 = frame->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
        bool checksum_ok = l4 != RTE_MBUF_F_RX_L4_CKSUM_BAD;
        if (checksum_ok && verify_udp_checksum_ && !(rx_checksum_offload_ && l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)) {
          checksum_ok = packet::verify_udp_checksum(ip->source, ip->destination, ip->payload.first(udp->length));
        }
        if (unlikely(!checksum_ok)) {
          ++counters_.rx_bad_checksum;
        } else {
          sockaddr_storage source{};
          auto* v4 = reinterpret_cast<sockaddr_in*>(&source);
          v4->sin_family = AF_INET;
          v4->sin_port = htons(udp->source_port);
          std::memcpy(&v4->sin_addr, ip->source.data(), 4);
          learn(source, ethernet->source);
          return deliver_udp(frame, ip->payload.first(udp->length), source, AF_INET, burst, now_us, handed);
        }
      }
    } else if (ip->protocol == packet::ip_protocol::kIcmp) {
      handle_icmp(ethernet.value(), ip->source, ip->payload);
    } else {
      ++counters_.rx_unsupported;
    }
  } else if (ethernet->ether_type == packet::ether_type::kArp && addressing_.has_ipv4) {
    if (handle_arp(ethernet->payload, !handed) && !handed && handoff_ != nullptr) share_with_other_queues(frame);
  } else if (ethernet->ether_type == packet::ether_type::kIpv6 && addressing_.has_ipv6) {
    const packet::ParseResult<packet::Ipv6Packet> ip = packet::parse_ipv6(ethernet->payload);
    if (unlikely(!ip)) {
      count_parse_error(ip.error());
    } else if (ip->next_header == packet::ip_protocol::kIcmpv6 &&
               (ip->destination == addressing_.ipv6 || is_solicited_node_of(ip->destination, addressing_.ipv6))) {
      handle_icmpv6(ethernet.value(), ip->source, ip->destination, ip->hop_limit, ip->payload);
    } else if (unlikely(ip->destination != addressing_.ipv6)) {
      ++counters_.rx_not_for_us;
    } else if (ip->next_header == packet::ip_protocol::kUdp) {
      const packet::ParseResult<packet::UdpDatagram> udp = packet::parse_udp(ip->payload);
      if (unlikely(!udp)) {
        count_parse_error(udp.error());
      } else if (unlikely(!packet::verify_udp_checksum(ip->source, ip->destination,
                                                       ip->payload.first(udp->length)))) {
        // RFC 8200 §8.1: mandatory over IPv6, and a zero checksum is invalid.
        ++counters_.rx_bad_checksum;
      } else {
        sockaddr_storage source{};
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&source);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(udp->source_port);
        std::memcpy(&v6->sin6_addr, ip->source.data(), 16);
        learn(source, ethernet->source);
        return deliver_udp(frame, ip->payload.first(udp->length), source, AF_INET6, burst, now_us, handed);
      }
    } else {
      ++counters_.rx_unsupported;
    }
  } else {
    ++counters_.rx_unsupported;
  }
  rte_pktmbuf_free(frame);
  return false;
}

bool DpdkBackend::deliver_udp(rte_mbuf* frame, std::span<const std::uint8_t> segment, const sockaddr_storage& source,
                              sa_family_t family, ReceiveBurst& burst, std::int64_t now_us, bool handed) {
  const std::uint16_t destination_port = packet::load_be16(segment.data() + 2);
  const std::uint32_t index = index_by_port_[destination_port];
  if (index == kNoIndex && !handed && handoff_ != nullptr && hand_off(frame, destination_port)) return false;
  if (index == kNoIndex || locals_[index].family != family) {
    ++counters_.rx_closed_port;
    rte_pktmbuf_free(frame);
    return false;
  }
  auto offset = static_cast<std::size_t>(segment.data() + packet::kUdpHeaderLength -
                                         rte_pktmbuf_mtod(frame, const std::uint8_t*));
  if (unlikely(!RTE_MBUF_DIRECT(frame) || rte_mbuf_refcnt_read(frame) != 1)) {
    // SRTP decrypts in place: shared data (a clone, a frame someone else also holds)
    // must not be written, so take a private copy.
    rte_mbuf* copy = rte_pktmbuf_copy(frame, packet_pool_, 0, UINT32_MAX);
    rte_pktmbuf_free(frame);
    if (copy == nullptr) {
      ++counters_.tx_no_mbuf;
      return false;
    }
    frame = copy;
  }
  std::uint8_t* payload = rte_pktmbuf_mtod_offset(frame, std::uint8_t*, offset);
  // Never null: receive_burst asks the queue for no more frames than the burst has room.
  ReceivedDatagram& datagram = *burst.claim_slot();
  datagram.data = payload;  // zero copy: the slot points into the mbuf instead of its own buffer
  datagram.length = static_cast<std::uint32_t>(segment.size() - packet::kUdpHeaderLength);
  // The room in place runs to the end of the mbuf's buffer (Ethernet padding included).
  datagram.capacity = static_cast<std::uint32_t>(static_cast<std::uint8_t*>(frame->buf_addr) + frame->buf_len - payload);
  datagram.local_port_index = index;
  datagram.local_port = destination_port;
  datagram.truncated = false;
  datagram.source = source;
  datagram.arrival_us = now_us;
  datagram.kernel_timestamp_ns = 0;
  held_[held_count_++] = frame;
  ++counters_.rx_delivered;
  return true;
}

}  // namespace mrfp::dataplane
