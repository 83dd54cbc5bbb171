// Asking for a structure ahead of use, when thousands of them outgrow the
// caches: every cache line from its first byte to its last, wherever it starts
// (an object that does not start on a line spills onto one more).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mrfp::dataplane {

inline void prefetch_bytes(const void* first, std::size_t length) {
  constexpr std::uintptr_t kLine = 64;
  const auto start = reinterpret_cast<std::uintptr_t>(first);
  for (std::uintptr_t line = start & ~(kLine - 1); line < start + length; line += kLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

}  // namespace mrfp::dataplane
