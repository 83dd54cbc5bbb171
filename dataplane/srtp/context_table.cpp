#include "dataplane/srtp/context_table.h"

#include "dataplane/open_addressing.h"

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
  const std::size_t hole = dataplane::close_probe_gap(
      slot, mask_, [this](std::size_t i) { return entries_[i].used; },
      [this](std::size_t i) { return home(entries_[i].context.ssrc); },
      [this](std::size_t from, std::size_t to) { entries_[to].context = entries_[from].context; });
  explicit_bzero(static_cast<void*>(&entries_[hole].context), sizeof(StreamContext));
  entries_[hole].used = false;
  --size_;
  return true;
}

}  // namespace mrfp::srtp
