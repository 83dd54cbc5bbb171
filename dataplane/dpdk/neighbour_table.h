// The link-layer addresses of the mixer's neighbours, keyed by IP address:
// filled from ARP (RFC 826), neighbour advertisements (RFC 4861) and the
// source MAC of received media frames, and read for every frame we send.
// Fixed capacity, open addressing with linear probing; allocated once, owned by
// one worker (no locks). A neighbour whose MAC changes is corrected by its next
// ARP or frame. Entries age as RFC 4861 §7.3 has them do: REACHABLE while
// confirmed (a frame, an ARP, an advertisement) within the last 30 s, then STALE
// (still used, and re-solicited); an entry neither confirmed nor solicited for
// 10 minutes is forgotten when room is needed, so participants coming and going
// for months never fill the table. Configured entries never age.
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
  enum class Lookup { Reachable, Stale, Incomplete, Absent };

  // RFC 4861 §10: REACHABLE_TIME.
  static constexpr std::int64_t kReachableUs = 30'000'000;
  // Unconfirmed and unsolicited this long: the slot may be taken by another.
  static constexpr std::int64_t kForgetUs = 600'000'000;

  // capacity is rounded up to a power of two; the table is kept at most 3/4 full.
  explicit NeighbourTable(std::size_t capacity = 4096);

  // Records (or corrects) the MAC of `address`, reachable as of now_us. False when
  // the table is full even of entries that could be forgotten.
  bool learn(const packet::Ipv6Address& address, const packet::MacAddress& mac, std::int64_t now_us);
  // A configured neighbour: never ages, never forgotten.
  bool add_permanent(const packet::Ipv6Address& address, const packet::MacAddress& mac);
  // Updates the entry only if one exists (RFC 826's "merge" for ARP packets not aimed at us).
  void refresh(const packet::Ipv6Address& address, const packet::MacAddress& mac, std::int64_t now_us);
  // The MAC when known (Reachable or Stale; a Stale one is used and re-solicited).
  Lookup find(const packet::Ipv6Address& address, packet::MacAddress& mac, std::int64_t now_us) const;
  // Whether a resolution request for an unknown or stale address may go out now: at
  // most one per address per interval (RFC 1122 §2.3.2.1 asks for at most one ARP
  // request per second per destination). Creates an incomplete entry for an unknown
  // one; false when the table is full or a request went out less than interval_us ago.
  bool may_solicit(const packet::Ipv6Address& address, std::int64_t now_us, std::int64_t interval_us);

  std::size_t size() const { return used_; }
  std::uint64_t forgotten() const { return forgotten_; }
  std::size_t capacity() const { return entries_.size(); }

 private:
  struct Entry {
    packet::Ipv6Address address{};
    packet::MacAddress mac{};
    std::uint8_t state = 0;  // 0 empty, 1 incomplete, 2 resolved
    bool permanent = false;
    std::int64_t confirmed_us = 0;
    std::int64_t solicited_us = 0;
  };
  // A slot for a new entry: the empty one where it goes, after forgetting the
  // entries past kForgetUs if the table is at its fill limit; nullptr when full.
  Entry* claim(const packet::Ipv6Address& address, std::int64_t now_us);
  void forget_old(std::int64_t now_us);
  void erase(std::size_t index);
  // The entry holding address, or the empty slot where it would go; nullptr when full.
  Entry* slot(const packet::Ipv6Address& address);
  const Entry* slot(const packet::Ipv6Address& address) const;

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
  std::uint64_t forgotten_ = 0;
};

}  // namespace mrfp::dataplane
