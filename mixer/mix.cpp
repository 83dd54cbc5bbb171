#include "mixer/mix.h"

#include <algorithm>
#include <cassert>
#include <cstddef>

namespace mrfp::mixer {
namespace {

constexpr std::int32_t kPcm16Min = -32768;
constexpr std::int32_t kPcm16Max = 32767;

// Written as a plain loop over indices so the compiler vectorises it
// (packssdw-style narrowing) at -O2 and above.
inline std::int16_t saturate(std::int32_t sample) {
  return static_cast<std::int16_t>(std::clamp(sample, kPcm16Min, kPcm16Max));
}

}  // namespace

void clear_bus(std::span<std::int32_t> bus) { std::fill(bus.begin(), bus.end(), 0); }

void accumulate(std::span<std::int32_t> bus, std::span<const std::int16_t> frame) {
  assert(bus.size() == frame.size());
  const std::size_t n = bus.size();
  std::int32_t* __restrict b = bus.data();
  const std::int16_t* __restrict f = frame.data();
  for (std::size_t i = 0; i < n; ++i) b[i] += f[i];
}

void saturate_to_pcm16(std::span<const std::int32_t> bus, std::span<std::int16_t> out) {
  assert(bus.size() == out.size());
  const std::size_t n = bus.size();
  const std::int32_t* __restrict b = bus.data();
  std::int16_t* __restrict o = out.data();
  for (std::size_t i = 0; i < n; ++i) o[i] = saturate(b[i]);
}

void mix_minus(std::span<const std::int32_t> bus, std::span<const std::int16_t> own,
               std::span<std::int16_t> out) {
  assert(bus.size() == own.size() && bus.size() == out.size());
  const std::size_t n = bus.size();
  const std::int32_t* __restrict b = bus.data();
  const std::int16_t* __restrict s = own.data();
  std::int16_t* __restrict o = out.data();
  for (std::size_t i = 0; i < n; ++i) o[i] = saturate(b[i] - s[i]);
}

}  // namespace mrfp::mixer
