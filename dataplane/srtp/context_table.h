// Stream contexts in a flat open-addressing table keyed by SSRC: one probe
// sequence per packet, no linked lists (libsrtp issue #417), storage allocated
// once at construction. Deletion shifts the following entries back instead of
// leaving tombstones, so lookups stay short however many streams come and go.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/prefetch.h"
#include "dataplane/srtp/stream_context.h"

namespace mrfp::srtp {

class ContextTable {
 public:
  // Room for `max_streams` contexts; the table keeps itself at most half full.
  ContextTable(std::uint32_t max_streams, std::uint32_t replay_window);
  ContextTable(const ContextTable&) = delete;
  ContextTable& operator=(const ContextTable&) = delete;

  StreamContext* find(std::uint32_t ssrc) {
    for (std::uint32_t slot = home(ssrc);; slot = (slot + 1) & mask_) {
      Entry& entry = entries_[slot];
      if (!entry.used) return nullptr;
      if (entry.context.ssrc == ssrc) return &entry.context;
    }
  }
  const StreamContext* find(std::uint32_t ssrc) const { return const_cast<ContextTable*>(this)->find(ssrc); }

  // Starts loading the context `ssrc` hashes to. With thousands of streams the
  // table outgrows the caches and every lookup would wait on memory; a burst
  // prefetches all its lookups first, so the waits overlap.
  // Every line of it: at 376 bytes an entry rarely starts on a line, and its
  // last field, read on every lookup, then lies on a seventh (perf annotate at
  // 15,000 streams: stepping 64 bytes from its start never reached it).
  void prefetch(std::uint32_t ssrc) const { dataplane::prefetch_bytes(&entries_[home(ssrc)], sizeof(Entry)); }

  // A fresh context for `ssrc`; nullptr if it exists already or the table is full.
  StreamContext* insert(std::uint32_t ssrc);
  // Zeroises the context's state; returns false if there is none.
  bool erase(std::uint32_t ssrc);

  std::uint32_t size() const { return size_; }
  std::uint32_t max_streams() const { return max_streams_; }

  template <class Visit>
  void for_each(Visit&& visit) {
    for (std::uint32_t i = 0; i <= mask_; ++i) {
      if (entries_[i].used) visit(entries_[i].context);
    }
  }

 private:
  struct Entry {
    bool used = false;
    StreamContext context;
  };
  std::uint32_t home(std::uint32_t ssrc) const {
    // Fibonacci hashing: SSRCs are random, but tests and some stacks use small
    // consecutive ones; the multiply spreads them over the table.
    return static_cast<std::uint32_t>((ssrc * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }

  std::uint32_t max_streams_;
  std::uint32_t replay_window_;
  std::uint32_t mask_;
  std::uint32_t shift_;
  std::uint32_t size_ = 0;
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace mrfp::srtp
