// Local UDP ports for participants, as an H.248 MG picks one per termination:
// each participant gets its own port from a configured range (RTP and RTCP share
// it, RFC 5761). Thread-safe; used on the control path only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "dataplane/result.h"

namespace mrfp::dataplane {

// RFC 3550 §11 asks for an even RTP port when RTCP takes the next odd one; with
// RTP/RTCP multiplexing any port works, and Any doubles the capacity of a range.
enum class PortParity { Even, Any };

class PortAllocator {
 public:
  // InvalidArgument when first > last, first is 0, or the range holds no port of
  // the asked parity.
  static Result<PortAllocator> create(std::uint16_t first, std::uint16_t last,
                                      PortParity parity = PortParity::Even);

  PortAllocator(PortAllocator&& other) noexcept;
  PortAllocator& operator=(PortAllocator&&) = delete;
  PortAllocator(const PortAllocator&) = delete;
  PortAllocator& operator=(const PortAllocator&) = delete;

  // The next free port after the one handed out last (round robin, so a port just
  // released is the last to be reused: late packets for a participant who left do
  // not reach the next one). ResourceExhausted when every port is in use.
  Result<std::uint16_t> allocate();
  // Takes a specific port (e.g. the shared port). AlreadyExists or InvalidArgument.
  Status reserve(std::uint16_t port);
  // Returns a port; releasing a port not held is ignored.
  void release(std::uint16_t port);

  std::size_t capacity() const { return slots_; }
  std::size_t in_use() const;
  std::uint16_t first() const { return first_; }
  std::uint16_t last() const { return last_; }

 private:
  PortAllocator(std::uint16_t first, std::uint16_t last, PortParity parity);
  std::size_t slot_of(std::uint16_t port) const;   // slots_ when not in the range
  std::uint16_t port_of(std::size_t slot) const;

  std::uint16_t first_;   // first port of the asked parity
  std::uint16_t last_;
  std::uint16_t step_;    // 2 for Even, 1 for Any
  std::size_t slots_;
  mutable std::mutex mutex_;
  std::vector<bool> used_;
  std::size_t used_count_ = 0;
  std::size_t next_slot_ = 0;
};

}  // namespace mrfp::dataplane
