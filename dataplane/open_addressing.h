// Linear-probing hash tables without tombstones (the SRTP context table, the
// SSRC registry, the DPDK neighbour table): an erase moves the later members
// of the probe run back into the hole, so lookups stay as short after years of
// churn as on the first day.
#pragma once

#include <cstddef>

namespace mrfp::dataplane {

// After the entry at `hole` is gone: while the slot after it is used, move that
// entry back into the hole when the hole lies within its probe sequence (from
// its home slot to where it sits). Returns the slot left empty, for the caller
// to clear. `mask` is the table size minus one (a power of two).
template <class IsUsed, class HomeOf, class MoveEntry>
std::size_t close_probe_gap(std::size_t hole, std::size_t mask, IsUsed is_used, HomeOf home_of, MoveEntry move) {
  for (std::size_t next = (hole + 1) & mask; is_used(next); next = (next + 1) & mask) {
    if (((next - home_of(next)) & mask) >= ((next - hole) & mask)) {
      move(next, hole);
      hole = next;
    }
  }
  return hole;
}

}  // namespace mrfp::dataplane
