// A bounded single-producer single-consumer ring: the one lock-free structure
// between a worker and the control threads (commands in, events out).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <optional>

namespace mrfp::dataplane {

template <class T, std::size_t Capacity>
class SpscRing {
  static_assert((Capacity & (Capacity - 1)) == 0, "capacity must be a power of two");

 public:
  bool try_push(T&& value) {
    const auto tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) == Capacity) return false;
    slots_[tail & (Capacity - 1)] = std::move(value);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  std::optional<T> try_pop() {
    const auto head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return std::nullopt;
    auto& slot = slots_[head & (Capacity - 1)];
    std::optional<T> value(std::move(*slot));
    slot.reset();
    head_.store(head + 1, std::memory_order_release);
    return value;
  }

 private:
  std::array<std::optional<T>, Capacity> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace mrfp::dataplane
