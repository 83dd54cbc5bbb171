// The libFuzzer entry point every fuzz/<name>_fuzz.cpp defines, plus a sink that
// forces every byte of a returned view to be read (so ASan checks its bounds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace mrfp::fuzz {

inline void touch(std::span<const std::uint8_t> bytes) {
  std::uint8_t sum = 0;
  for (const std::uint8_t byte : bytes) sum = static_cast<std::uint8_t>(sum + byte);
  asm volatile("" : : "r"(sum));  // keep the reads: the sum is "used"
}

// A broken invariant: crash so libFuzzer (or the smoke test) reports it.
[[noreturn]] inline void invariant_broken() { __builtin_trap(); }

}  // namespace mrfp::fuzz
