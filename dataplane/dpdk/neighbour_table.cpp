#include "dataplane/dpdk/neighbour_table.h"

#include "dataplane/open_addressing.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace mrfp::dataplane {

namespace {

constexpr std::uint8_t kEmpty = 0, kIncomplete = 1, kResolved = 2;

std::size_t hash_of(const packet::Ipv6Address& address) {
  // FNV-1a over the last 8 bytes: the host part of IPv6 and the whole IPv4-mapped address.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::size_t i = 8; i < 16; ++i) hash = (hash ^ address[i]) * 0x100000001b3ull;
  return static_cast<std::size_t>(hash ^ (hash >> 32));
}

}  // namespace

packet::Ipv6Address neighbour_key(const packet::Ipv4Address& address) {
  packet::Ipv6Address key{};
  key[10] = 0xFF;
  key[11] = 0xFF;
  std::copy(address.begin(), address.end(), key.begin() + 12);
  return key;
}

NeighbourTable::NeighbourTable(std::size_t capacity)
    : entries_(std::bit_ceil(std::max<std::size_t>(capacity, 16))), mask_(entries_.size() - 1) {}

const NeighbourTable::Entry* NeighbourTable::slot(const packet::Ipv6Address& address) const {
  std::size_t index = hash_of(address) & mask_;
  for (std::size_t probe = 0; probe < entries_.size(); ++probe, index = (index + 1) & mask_) {
    const Entry& entry = entries_[index];
    if (entry.state == kEmpty || entry.address == address) return &entry;
  }
  return nullptr;
}

NeighbourTable::Entry* NeighbourTable::slot(const packet::Ipv6Address& address) {
  return const_cast<Entry*>(static_cast<const NeighbourTable*>(this)->slot(address));
}

bool NeighbourTable::learn(const packet::Ipv6Address& address, const packet::MacAddress& mac, std::int64_t now_us) {
  Entry* entry = slot(address);
  if (entry == nullptr) return false;
  if (entry->state == kEmpty) {
    entry = claim(address, now_us);
    if (entry == nullptr) return false;
  } else if (entry->permanent) {
    return true;  // configured: neither ARP nor frames override it
  } else if (entry->state == kResolved && entry->mac == mac) {
    // The common case on the media path: dirty the line at most once a second.
    if (now_us - entry->confirmed_us >= 1'000'000) entry->confirmed_us = now_us;
    return true;
  }
  entry->mac = mac;
  entry->state = kResolved;
  entry->confirmed_us = now_us;
  return true;
}

bool NeighbourTable::add_permanent(const packet::Ipv6Address& address, const packet::MacAddress& mac) {
  Entry* entry = slot(address);
  if (entry != nullptr && entry->state == kEmpty) entry = claim(address, 0);
  if (entry == nullptr) return false;
  entry->mac = mac;
  entry->state = kResolved;
  entry->permanent = true;
  return true;
}

void NeighbourTable::refresh(const packet::Ipv6Address& address, const packet::MacAddress& mac, std::int64_t now_us) {
  Entry* entry = slot(address);
  if (entry != nullptr && entry->state != kEmpty) learn(address, mac, now_us);
}

NeighbourTable::Lookup NeighbourTable::find(const packet::Ipv6Address& address, packet::MacAddress& mac,
                                            std::int64_t now_us) const {
  const Entry* entry = slot(address);
  if (entry == nullptr || entry->state == kEmpty) return Lookup::Absent;
  if (entry->state == kIncomplete) return Lookup::Incomplete;
  mac = entry->mac;
  if (entry->permanent || now_us - entry->confirmed_us < kReachableUs) return Lookup::Reachable;
  return Lookup::Stale;
}

bool NeighbourTable::may_solicit(const packet::Ipv6Address& address, std::int64_t now_us,
                                 std::int64_t interval_us) {
  Entry* entry = slot(address);
  if (entry == nullptr) return false;
  if (entry->state == kEmpty) {
    entry = claim(address, now_us);
    if (entry == nullptr) return false;
    entry->state = kIncomplete;
  } else if (entry->permanent) {
    return false;
  } else if (entry->solicited_us != 0 && now_us - entry->solicited_us < interval_us) {
    return false;
  }
  entry->solicited_us = now_us;
  return true;
}

NeighbourTable::Entry* NeighbourTable::claim(const packet::Ipv6Address& address, std::int64_t now_us) {
  const auto at_limit = [this] { return (used_ + 1) * 4 > entries_.size() * 3; };
  if (at_limit()) {
    forget_old(now_us);
    if (at_limit()) return nullptr;
  }
  Entry* entry = slot(address);  // again: forgetting moves entries
  if (entry == nullptr || entry->state != kEmpty) return entry;
  entry->address = address;
  entry->state = kIncomplete;  // the caller says what it is
  ++used_;
  return entry;
}

void NeighbourTable::forget_old(std::int64_t now_us) {
  // Every erase may move a later entry into `index`: look at it again.
  for (std::size_t index = 0; index < entries_.size();) {
    const Entry& entry = entries_[index];
    const bool old = entry.state != kEmpty && !entry.permanent &&
                     now_us - std::max(entry.confirmed_us, entry.solicited_us) >= kForgetUs;
    if (old) {
      erase(index);
    } else {
      ++index;
    }
  }
}

void NeighbourTable::erase(std::size_t index) {
  const std::size_t hole = close_probe_gap(
      index, mask_, [this](std::size_t i) { return entries_[i].state != kEmpty; },
      [this](std::size_t i) { return hash_of(entries_[i].address) & mask_; },
      [this](std::size_t from, std::size_t to) { entries_[to] = entries_[from]; });
  entries_[hole] = Entry{};
  --used_;
  ++forgotten_;
}

}  // namespace mrfp::dataplane
