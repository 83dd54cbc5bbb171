// Every SSRC in a conference, and who owns it. TR 33.829 §5.3.2.1.1: under one
// group key the keystream is separated only by the SSRC, so a duplicate SSRC
// would be a two-time pad. Participants' and the mixer's own output SSRCs come
// from this one registry. Lives on the worker that owns the conference.
//
// A flat table sized when the conference is made: claims happen on the packet
// path (an SSRC latched from the first authenticated packet, an output SSRC
// replaced before its sequence wraps) and must not allocate there.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace mrfp::dataplane {

struct SsrcOwner {
  enum class Kind : std::uint8_t { Participant, OutputStream };
  Kind kind;
  std::uint32_t id;  // participant id, or output stream id
};

class SsrcRegistry {
 public:
  // Room for `capacity` SSRCs at once (the table is kept at most half full).
  SsrcRegistry(std::uint64_t seed, std::size_t capacity);

  // Claims `ssrc` for `owner`; returns the current owner instead if taken. A
  // full registry refuses every claim, answering with kNoRoom as the owner.
  std::optional<SsrcOwner> claim(std::uint32_t ssrc, SsrcOwner owner);
  // A fresh SSRC no one in the conference holds, claimed for `owner`; 0 (which
  // RFC 3550 streams avoid) when the registry is full.
  std::uint32_t claim_fresh(SsrcOwner owner);
  void release(std::uint32_t ssrc);
  std::optional<SsrcOwner> owner_of(std::uint32_t ssrc) const;
  std::size_t size() const { return size_; }

  static constexpr SsrcOwner kNoRoom{SsrcOwner::Kind::OutputStream, 0xFFFFFFFF};

 private:
  struct Entry {
    bool used = false;
    std::uint32_t ssrc = 0;
    SsrcOwner owner{};
  };
  std::size_t home(std::uint32_t ssrc) const;
  // The slot holding ssrc, or the empty slot where it would go.
  std::size_t slot_of(std::uint32_t ssrc) const;

  std::vector<Entry> entries_;
  std::size_t mask_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  std::mt19937_64 random_;
};

}  // namespace mrfp::dataplane
