#include "dataplane/srtp/context_table.h"

#include <algorithm>
#include <bit>
#include <string.h>  // explicit_bzero

namespace mrfp::srtp {

ContextTable::ContextTable(std::uint32_t max_streams, std::uint32_t replay_window)
    : max_streams_(max_streams), replay_window_(replay_window) {
  const std::uint32_t slots = std::bit_ceil(std::max<std::uint32_t>(2 * max_streams, 8));
  mask_ = slots - 1;
  shift_ = 64 - static_cast<std::uint32_t>(std::countr_zero(slots));
  entries_ = std::make_unique<Entry[]>(slots);
}

StreamContext* ContextTable::insert(std::uint32_t ssrc) {
  if (size_ >= max_streams_) return nullptr;
  std::uint32_t slot = home(ssrc);
  for (; entries_[slot].used; slot = (slot + 1) & mask_) {
    if (entries_[slot].context.ssrc == ssrc) return nullptr;
  }
  Entry& entry = entries_[slot];
  entry.used = true;
  entry.context = StreamContext{};
  entry.context.ssrc = ssrc;
  entry.context.srtp_window.reset(replay_window_);
  entry.context.srtcp_window.reset(replay_window_);
  ++size_;
  return &entry.context;
}

bool ContextTable::erase(std::uint32_t ssrc) {
  std::uint32_t slot = home(ssrc);
  for (;; slot = (slot + 1) & mask_) {
    if (!entries_[slot].used) return false;
    if (entries_[slot].context.ssrc == ssrc) break;
  }
  // Backward-shift deletion (linear probing): move later members of the probe
  // run into the hole while their home position allows it.
  std::uint32_t hole = slot;
  for (std::uint32_t next = (hole + 1) & mask_; entries_[next].used; next = (next + 1) & mask_) {
    const std::uint32_t want = home(entries_[next].context.ssrc);
    // `next` may move to `hole` if its home is not in (hole, next] cyclically.
    const bool home_between = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
    if (home_between) continue;
    entries_[hole].context = entries_[next].context;
    hole = next;
  }
  explicit_bzero(static_cast<void*>(&entries_[hole].context), sizeof(StreamContext));
  entries_[hole].used = false;
  --size_;
  return true;
}

}  // namespace mrfp::srtp
