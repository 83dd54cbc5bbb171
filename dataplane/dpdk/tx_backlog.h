// Frames the TX ring refused, kept in order and offered to it again first.
//
// A tick hands a conference's whole output to the ring at once: 15,000 frames
// at 15,000 G.711 listeners. A memif ring of 16,384 that still holds part of
// the previous tick (seen: 16,678 frames lost in a 60 s run), or a NIC ring of
// 1,024 descriptors that drains slower than a tick fills it, refuses the rest, and
// dropping it loses a frame per listener for a moment's congestion (RFC 3550
// receivers conceal it; nobody should have to). The backlog turns that moment
// into a delay of a few milliseconds. It is bounded: what does not fit is
// dropped and counted, as before.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mrfp::dataplane {

template <class Frame>
class TxBacklog {
 public:
  // Room for at least `capacity` frames (rounded up to a power of two); 0: none.
  explicit TxBacklog(std::size_t capacity)
      : slots_(capacity == 0 ? 0 : std::bit_ceil(capacity)), mask_(slots_.empty() ? 0 : slots_.size() - 1) {}

  std::size_t size() const { return static_cast<std::size_t>(tail_ - head_); }
  bool empty() const { return head_ == tail_; }
  std::size_t capacity() const { return slots_.size(); }

  // Appends frames in order while there is room; returns how many it took
  // (the caller drops the rest).
  std::size_t push(std::span<Frame* const> frames) {
    const std::size_t taken = std::min(frames.size(), capacity() - size());
    for (std::size_t i = 0; i < taken; ++i) slots_[(tail_ + i) & mask_] = frames[i];
    tail_ += taken;
    return taken;
  }

  // The oldest frames, as one contiguous run (up to the end of the storage):
  // hand it to the ring, then pop() what it took.
  std::span<Frame*> oldest() {
    if (empty()) return {};
    const std::size_t start = head_ & mask_;
    const std::size_t run = std::min(size(), slots_.size() - start);
    return {slots_.data() + start, run};
  }
  void pop(std::size_t count) { head_ += std::min(count, size()); }

 private:
  std::vector<Frame*> slots_;
  std::size_t mask_;
  std::uint64_t head_ = 0, tail_ = 0;  // free-running; the slot is index & mask_
};

}  // namespace mrfp::dataplane
