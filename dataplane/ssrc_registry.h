// Every SSRC in a conference, and who owns it. TR 33.829 §5.3.2.1.1: under one
// group key the keystream is separated only by the SSRC, so a duplicate SSRC
// would be a two-time pad. Participants' and the mixer's own output SSRCs come
// from this one registry. Lives on the worker that owns the conference.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>

namespace mrfp::dataplane {

struct SsrcOwner {
  enum class Kind : std::uint8_t { Participant, OutputStream };
  Kind kind;
  std::uint32_t id;  // participant id, or output stream id
};

class SsrcRegistry {
 public:
  explicit SsrcRegistry(std::uint64_t seed) : random_(seed) {}

  // Claims `ssrc` for `owner`; returns the current owner instead if taken.
  std::optional<SsrcOwner> claim(std::uint32_t ssrc, SsrcOwner owner);
  // A fresh SSRC no one in the conference holds, claimed for `owner`.
  std::uint32_t claim_fresh(SsrcOwner owner);
  void release(std::uint32_t ssrc);
  std::optional<SsrcOwner> owner_of(std::uint32_t ssrc) const;
  std::size_t size() const { return owners_.size(); }

 private:
  std::unordered_map<std::uint32_t, SsrcOwner> owners_;
  std::mt19937_64 random_;
};

}  // namespace mrfp::dataplane
