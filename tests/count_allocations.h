// Counts every C++ allocation while a CountAllocations guard lives, by
// replacing the global operator new. Include it in exactly one source file of
// a test executable (a replacement is per program). Under AddressSanitizer,
// which owns operator new, nothing is replaced and tests should skip.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace mrfp::test {
inline std::atomic<bool> counting_allocations{false};
inline std::atomic<std::size_t> allocations_counted{0};

class CountAllocations {
 public:
  CountAllocations() {
    allocations_counted = 0;
    counting_allocations = true;
  }
  ~CountAllocations() { counting_allocations = false; }
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;
  std::size_t count() const { return allocations_counted.load(); }
};
}  // namespace mrfp::test

#if !defined(__SANITIZE_ADDRESS__)
void* operator new(std::size_t size) {
  if (mrfp::test::counting_allocations.load(std::memory_order_relaxed)) {
    mrfp::test::allocations_counted.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();  // out of memory is fatal in a test
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
