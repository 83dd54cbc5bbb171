// RFC 3711 §3.3.2 replay protection and §3.3.1 / Appendix A index estimation:
// the one piece of per-stream receive state, kept tiny and tested alone.
//
// The window remembers which of the last `size` packet indexes (64..1024, a
// multiple of 64) were seen, relative to the highest authenticated index. The
// bitmap is circular (bit = index mod size), so advancing by one packet clears
// one bit instead of shifting 1024 bits.
#pragma once

#include <array>
#include <cstdint>

namespace mrfp::srtp {

// RFC 3711 §3.3.1: guess the 48-bit index of a packet with sequence number
// `sequence`, given the highest index seen so far on the stream. Picks the ROC
// (v = ROC-1, ROC or ROC+1) that puts the index closest to the highest one.
// Returns -1 when the guess would precede index 0 (a packet from "ROC -1").
std::int64_t estimate_srtp_index(std::uint64_t highest_index, std::uint16_t sequence);

enum class ReplayCheck : std::uint8_t {
  Fresh,     // never seen and inside (or ahead of) the window
  Replayed,  // seen already
  TooOld,    // left of the window: cannot tell, so drop (RFC 3711 §3.3.2)
};

class ReplayWindow {
 public:
  static constexpr std::uint32_t kMinSize = 64;
  static constexpr std::uint32_t kMaxSize = 1024;

  // size is clamped to [64, 1024] and rounded up to a multiple of 64.
  ReplayWindow() { reset(128); }
  explicit ReplayWindow(std::uint32_t size) { reset(size); }
  void reset(std::uint32_t size);

  // Check before the crypto, add only after the packet authenticated.
  ReplayCheck check(std::uint64_t index) const;
  void add(std::uint64_t index);

  bool started() const { return started_; }
  std::uint64_t highest() const { return highest_; }
  std::uint32_t size() const { return size_; }

 private:
  bool test_bit(std::uint64_t index) const;
  void set_bit(std::uint64_t index);
  void clear_bit(std::uint64_t index);

  std::uint64_t highest_ = 0;
  std::uint32_t size_ = 128;
  bool started_ = false;
  std::array<std::uint64_t, kMaxSize / 64> bits_{};
};

}  // namespace mrfp::srtp
