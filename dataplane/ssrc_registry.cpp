#include "dataplane/ssrc_registry.h"

#include <algorithm>
#include <bit>

#include "dataplane/open_addressing.h"

namespace mrfp::dataplane {

SsrcRegistry::SsrcRegistry(std::uint64_t seed, std::size_t capacity)
    : entries_(std::bit_ceil(std::max<std::size_t>(2 * capacity, 16))),
      mask_(entries_.size() - 1),
      capacity_(capacity),
      random_(seed) {}

std::size_t SsrcRegistry::home(std::uint32_t ssrc) const {
  // Fibonacci hashing: declared SSRCs may be small and consecutive.
  return static_cast<std::size_t>((ssrc * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
}

std::size_t SsrcRegistry::slot_of(std::uint32_t ssrc) const {
  std::size_t slot = home(ssrc);
  while (entries_[slot].used && entries_[slot].ssrc != ssrc) slot = (slot + 1) & mask_;
  return slot;
}

std::optional<SsrcOwner> SsrcRegistry::claim(std::uint32_t ssrc, SsrcOwner owner) {
  Entry& entry = entries_[slot_of(ssrc)];
  if (entry.used) return entry.owner;
  if (size_ >= capacity_) return kNoRoom;
  entry = {true, ssrc, owner};
  ++size_;
  return std::nullopt;
}

std::uint32_t SsrcRegistry::claim_fresh(SsrcOwner owner) {
  if (size_ >= capacity_) return 0;
  // RFC 3550 §8.1: SSRCs are random; 0 is avoided because some stacks treat it as unset.
  for (;;) {
    auto candidate = static_cast<std::uint32_t>(random_());
    if (candidate != 0 && !claim(candidate, owner)) return candidate;
  }
}

void SsrcRegistry::release(std::uint32_t ssrc) {
  const std::size_t slot = slot_of(ssrc);
  if (!entries_[slot].used) return;
  const std::size_t emptied = close_probe_gap(
      slot, mask_, [this](std::size_t i) { return entries_[i].used; },
      [this](std::size_t i) { return home(entries_[i].ssrc); },
      [this](std::size_t from, std::size_t to) { entries_[to] = entries_[from]; });
  entries_[emptied] = Entry{};
  --size_;
}

std::optional<SsrcOwner> SsrcRegistry::owner_of(std::uint32_t ssrc) const {
  const Entry& entry = entries_[slot_of(ssrc)];
  if (!entry.used) return std::nullopt;
  return entry.owner;
}

}  // namespace mrfp::dataplane
