#include "bench/loadgen/pacer.h"

#include <time.h>

#include <algorithm>
#include <cerrno>

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

Pacer::Pacer(Transport& transport, std::span<const ScheduledSend> schedule, std::span<const PacketTrack> tracks,
             std::int64_t start_ns, std::span<std::int64_t> marked_send_ns)
    : transport_(transport),
      schedule_(schedule),
      tracks_(tracks),
      start_ns_(start_ns),
      marked_send_ns_(marked_send_ns),
      batch_(transport.max_batch()) {}

std::int64_t Pacer::next_deadline_ns() const {
  return finished() ? kNever : start_ns_ + schedule_[next_].offset_ns;
}

bool Pacer::send_due(std::int64_t now_ns) {
  std::size_t count = 0;
  const std::size_t first = next_;
  while (next_ < schedule_.size() && count < batch_.size() &&
         start_ns_ + schedule_[next_].offset_ns <= now_ns + kBatchSlackNs) {
    const ScheduledSend& send = schedule_[next_];
    batch_[count++] = {send.participant, tracks_[send.participant].packet(send.packet)};
    ++next_;
  }
  if (count == 0) return true;
  const SendOutcome outcome = transport_.send({batch_.data(), count});
  totals_.sent += outcome.sent;
  totals_.send_errors += outcome.errors;
  next_ -= outcome.deferred;
  const std::int64_t sent_at = monotonic_ns();
  totals_.max_batch_ns = std::max(totals_.max_batch_ns, sent_at - now_ns);
  for (std::size_t i = first; i < next_; ++i) {
    // When its batch started: the batch's own duration is reported apart.
    const std::int64_t lateness = now_ns - (start_ns_ + schedule_[i].offset_ns);
    totals_.max_lateness_ns = std::max(totals_.max_lateness_ns, lateness);
    if (lateness > 1'000'000) ++totals_.late_over_1ms;
    if (schedule_[i].mark != kNoMark && schedule_[i].mark < marked_send_ns_.size()) {
      marked_send_ns_[schedule_[i].mark] = sent_at;
    }
  }
  return outcome.deferred == 0;
}

void sleep_until_ns(std::int64_t deadline_ns) {
  const timespec wake{static_cast<time_t>(deadline_ns / 1'000'000'000), static_cast<long>(deadline_ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) == EINTR) {
  }
}

void Pacer::run(const std::atomic<bool>& stop) {
  while (!finished() && !stop.load(std::memory_order_relaxed)) {
    const std::int64_t deadline = next_deadline_ns();
    if (monotonic_ns() < deadline) sleep_until_ns(deadline);
    if (!send_due(monotonic_ns())) sleep_until_ns(monotonic_ns() + kRingFullRetryNs);
  }
}

}  // namespace mrfp::loadgen
