// Paces a precomputed schedule out of any Transport against absolute
// CLOCK_MONOTONIC deadlines (a late wake-up never pushes later frames back):
// the packets due within 500 µs of now go out as one batch.
//
// Pacer is one step of that: whoever owns the I/O thread calls send_due()
// when next_deadline_ns() has come. run() is the loop for a thread that only
// sends; io_loop.h interleaves the same steps with receiving, on one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "bench/loadgen/transport.h"
#include "bench/peer/paced_sender.h"

namespace mrfp::loadgen {

// A full ring is offered again after this long: mrfpd frees a few dozen
// slots meanwhile, and a wake-up costs tens of µs of CPU on a VM (pacer.cpp).
inline constexpr std::int64_t kRingFullRetryNs = 50'000;

class Pacer {
 public:
  // Sends `schedule` (sorted by offset) from `tracks`, deadlines start_ns +
  // offset_ns. `marked_send_ns[mark]` receives the actual send time of each
  // marked packet. The spans must outlive the Pacer.
  Pacer(Transport& transport, std::span<const ScheduledSend> schedule, std::span<const PacketTrack> tracks,
        std::int64_t start_ns, std::span<std::int64_t> marked_send_ns);

  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  // Deadline of the next packet not yet sent; kNever once all are.
  std::int64_t next_deadline_ns() const;
  bool finished() const { return next_ >= schedule_.size(); }

  // Sends one batch: the packets due by `now_ns` plus the batch slack, at most
  // transport.max_batch(). Call it when next_deadline_ns() <= now_ns; it sends
  // nothing otherwise. Returns false when the transport's ring was full and
  // packets due now wait for the next call. No allocation.
  bool send_due(std::int64_t now_ns);

  // A sending thread's whole life: sleeps to each deadline and sends what is
  // due, until the schedule ends or `stop` becomes true.
  void run(const std::atomic<bool>& stop);

  const SenderTotals& totals() const { return totals_; }

 private:
  Transport& transport_;
  std::span<const ScheduledSend> schedule_;
  std::span<const PacketTrack> tracks_;
  std::int64_t start_ns_;
  std::span<std::int64_t> marked_send_ns_;
  std::vector<OutgoingPacket> batch_;
  std::size_t next_ = 0;
  SenderTotals totals_;
};

// Sleeps until the absolute CLOCK_MONOTONIC time `deadline_ns` (EINTR retried).
void sleep_until_ns(std::int64_t deadline_ns);

}  // namespace mrfp::loadgen
