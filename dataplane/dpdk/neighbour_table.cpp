#include "dataplane/dpdk/neighbour_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace mrfp::dataplane {

namespace {

constexpr std::uint8_t kEmpty = 0, kIncomplete = 1, kReachable = 2;

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

bool NeighbourTable::learn(const packet::Ipv6Address& address, const packet::MacAddress& mac) {
  Entry* entry = slot(address);
  if (entry == nullptr) return false;
  if (entry->state == kEmpty) {
    if ((used_ + 1) * 4 > entries_.size() * 3) return false;
    entry->address = address;
    ++used_;
  } else if (entry->state == kReachable && entry->mac == mac) {
    return true;  // the common case on the media path: no store, no dirtied cache line
  }
  entry->mac = mac;
  entry->state = kReachable;
  return true;
}

void NeighbourTable::refresh(const packet::Ipv6Address& address, const packet::MacAddress& mac) {
  Entry* entry = slot(address);
  if (entry != nullptr && entry->state != kEmpty) learn(address, mac);
}

NeighbourTable::Lookup NeighbourTable::find(const packet::Ipv6Address& address, packet::MacAddress& mac) const {
  const Entry* entry = slot(address);
  if (entry == nullptr || entry->state == kEmpty) return Lookup::Absent;
  if (entry->state == kIncomplete) return Lookup::Incomplete;
  mac = entry->mac;
  return Lookup::Reachable;
}

bool NeighbourTable::may_solicit(const packet::Ipv6Address& address, std::int64_t now_us,
                                 std::int64_t interval_us) {
  Entry* entry = slot(address);
  if (entry == nullptr) return false;
  if (entry->state == kEmpty) {
    if ((used_ + 1) * 4 > entries_.size() * 3) return false;
    entry->address = address;
    entry->state = kIncomplete;
    ++used_;
  } else if (entry->state == kIncomplete && now_us - entry->solicited_us < interval_us) {
    return false;
  }
  entry->solicited_us = now_us;
  return true;
}

}  // namespace mrfp::dataplane
