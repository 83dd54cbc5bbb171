#include "bench/loadgen/pacer.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace mrfp::loadgen {

namespace {
// Packets due within this much of now go out in the same batch, up to this
// much early. A sleep and its wake-up cost about 30 µs of CPU on the KVM guests
// we measure on (a loop of 100 µs clock_nanosleeps on one vCPU made a busy
// loop on the same vCPU take 51% longer); at 750,000 packets a second a 100 µs window woke
// the sender 10,000 times a second, a fifth of its core. 500 µs keeps every
// packet within half a millisecond of its deadline and wakes 2,000 times.
constexpr std::int64_t kBatchSlackNs = 500'000;
}  // namespace

SenderTotals pace(Transport& transport, std::span<const ScheduledSend> schedule, std::span<const PacketTrack> tracks,
                  std::int64_t start_ns, std::span<std::int64_t> marked_send_ns, const std::atomic<bool>& stop) {
  const std::size_t max_batch = transport.max_batch();
  std::vector<OutgoingPacket> batch(max_batch);
  SenderTotals totals;
  std::size_t next = 0;
  while (next < schedule.size() && !stop.load(std::memory_order_relaxed)) {
    const std::int64_t deadline = start_ns + schedule[next].offset_ns;
    if (monotonic_ns() < deadline) {
      const timespec wake{static_cast<time_t>(deadline / 1'000'000'000), static_cast<long>(deadline % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) == EINTR) {
      }
    }
    const std::int64_t now = monotonic_ns();
    std::size_t count = 0;
    const std::size_t first = next;
    while (next < schedule.size() && count < max_batch && start_ns + schedule[next].offset_ns <= now + kBatchSlackNs) {
      const ScheduledSend& send = schedule[next];
      batch[count++] = {send.participant, tracks[send.participant].packet(send.packet)};
      ++next;
    }
    const SendOutcome outcome = transport.send({batch.data(), count});
    totals.sent += outcome.sent;
    totals.send_errors += outcome.errors;
    const std::int64_t sent_at = monotonic_ns();
    totals.max_batch_ns = std::max(totals.max_batch_ns, sent_at - now);
    for (std::size_t i = first; i < next; ++i) {
      // When its batch started: the batch's own duration is reported apart.
      const std::int64_t lateness = now - (start_ns + schedule[i].offset_ns);
      totals.max_lateness_ns = std::max(totals.max_lateness_ns, lateness);
      if (lateness > 1'000'000) ++totals.late_over_1ms;
      if (schedule[i].mark != kNoMark && schedule[i].mark < marked_send_ns.size()) {
        marked_send_ns[schedule[i].mark] = sent_at;
      }
    }
  }
  return totals;
}

}  // namespace mrfp::loadgen
