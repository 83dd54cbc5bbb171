// The link-layer addresses of the mixer's neighbours, keyed by IP address:
// filled from ARP (RFC 826), neighbour advertisements (RFC 4861) and the
// source MAC of received media frames, and read for every frame we send.
// Fixed capacity, open addressing with linear probing; allocated once, owned by
// one worker (no locks). Entries are never removed: a neighbour whose MAC
// changes is corrected by its next ARP or frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "dataplane/packet/addresses.h"

namespace mrfp::dataplane {

// IPv4 addresses are stored IPv4-mapped (RFC 4291 §2.5.5.2) so one key type serves both.
packet::Ipv6Address neighbour_key(const packet::Ipv4Address& address);

class NeighbourTable {
 public:
  enum class Lookup { Reachable, Incomplete, Absent };

  // capacity is rounded up to a power of two; the table is kept at most 3/4 full.
  explicit NeighbourTable(std::size_t capacity = 4096);

  // Records (or corrects) the MAC of `address`. False when the table is full.
  bool learn(const packet::Ipv6Address& address, const packet::MacAddress& mac);
  // Updates the entry only if one exists (RFC 826's "merge" for ARP packets not aimed at us).
  void refresh(const packet::Ipv6Address& address, const packet::MacAddress& mac);
  // The MAC when known.
  Lookup find(const packet::Ipv6Address& address, packet::MacAddress& mac) const;
  // Whether a resolution request for an unknown address may go out now: at most one
  // per address per interval (RFC 1122 §2.3.2.1 asks for at most one ARP request per
  // second per destination). Creates an incomplete entry; false when the table is full
  // or a request went out less than interval_us ago.
  bool may_solicit(const packet::Ipv6Address& address, std::int64_t now_us, std::int64_t interval_us);

  std::size_t size() const { return used_; }
  std::size_t capacity() const { return entries_.size(); }

 private:
  struct Entry {
    packet::Ipv6Address address{};
    packet::MacAddress mac{};
    std::uint8_t state = 0;  // 0 empty, 1 incomplete, 2 reachable
    std::int64_t solicited_us = 0;
  };
  // The entry holding address, or the empty slot where it would go; nullptr when full.
  Entry* slot(const packet::Ipv6Address& address);
  const Entry* slot(const packet::Ipv6Address& address) const;

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
};

}  // namespace mrfp::dataplane
