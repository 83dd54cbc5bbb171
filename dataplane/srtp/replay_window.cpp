#include "dataplane/srtp/replay_window.h"

#include <algorithm>

namespace mrfp::srtp {

std::int64_t estimate_srtp_index(std::uint64_t highest_index, std::uint16_t sequence) {
  // RFC 3711 §3.3.1 (Appendix A pseudo-code): s_l is the highest sequence
  // number, ROC its rollover counter; v is the guessed ROC for `sequence`.
  const auto roc = static_cast<std::int64_t>(highest_index >> 16);
  const auto s_l = static_cast<std::int32_t>(highest_index & 0xffff);
  const auto seq = static_cast<std::int32_t>(sequence);
  std::int64_t v = roc;
  if (s_l < 32768) {
    if (seq - s_l > 32768) v = roc - 1;  // a late packet from before the wrap
  } else {
    if (s_l - 32768 > seq) v = roc + 1;  // the sequence number wrapped
  }
  if (v < 0) return -1;
  return (v << 16) | seq;
}

void ReplayWindow::reset(std::uint32_t size) {
  size = std::clamp(size, kMinSize, kMaxSize);
  size_ = (size + 63) / 64 * 64;
  highest_ = 0;
  started_ = false;
  bits_.fill(0);
}

bool ReplayWindow::test_bit(std::uint64_t index) const {
  const std::uint64_t slot = index % size_;
  return (bits_[slot / 64] >> (slot % 64)) & 1u;
}
void ReplayWindow::set_bit(std::uint64_t index) {
  const std::uint64_t slot = index % size_;
  bits_[slot / 64] |= std::uint64_t{1} << (slot % 64);
}
void ReplayWindow::clear_bit(std::uint64_t index) {
  const std::uint64_t slot = index % size_;
  bits_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
}

ReplayCheck ReplayWindow::check(std::uint64_t index) const {
  if (!started_ || index > highest_) return ReplayCheck::Fresh;
  if (highest_ - index >= size_) return ReplayCheck::TooOld;
  return test_bit(index) ? ReplayCheck::Replayed : ReplayCheck::Fresh;
}

void ReplayWindow::add(std::uint64_t index) {
  if (!started_) {
    started_ = true;
    highest_ = index;
    set_bit(index);
    return;
  }
  if (index > highest_) {
    // Slide: the slots of the indexes we skip over now stand for new indexes.
    const std::uint64_t advance = index - highest_;
    if (advance >= size_) {
      bits_.fill(0);
    } else {
      for (std::uint64_t skipped = highest_ + 1; skipped < index; ++skipped) clear_bit(skipped);
    }
    highest_ = index;
    set_bit(index);
    return;
  }
  if (highest_ - index < size_) set_bit(index);
}

}  // namespace mrfp::srtp
