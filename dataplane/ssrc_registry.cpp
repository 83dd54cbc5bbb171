#include "dataplane/ssrc_registry.h"

namespace mrfp::dataplane {

std::optional<SsrcOwner> SsrcRegistry::claim(std::uint32_t ssrc, SsrcOwner owner) {
  auto [it, inserted] = owners_.try_emplace(ssrc, owner);
  if (!inserted) return it->second;
  return std::nullopt;
}

std::uint32_t SsrcRegistry::claim_fresh(SsrcOwner owner) {
  // RFC 3550 §8.1: SSRCs are random; 0 is avoided because some stacks treat it as unset.
  for (;;) {
    auto candidate = static_cast<std::uint32_t>(random_());
    if (candidate != 0 && !claim(candidate, owner)) return candidate;
  }
}

void SsrcRegistry::release(std::uint32_t ssrc) { owners_.erase(ssrc); }

std::optional<SsrcOwner> SsrcRegistry::owner_of(std::uint32_t ssrc) const {
  auto it = owners_.find(ssrc);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mrfp::dataplane
