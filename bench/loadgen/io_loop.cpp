#include "bench/loadgen/io_loop.h"

#include <algorithm>
#include <vector>

namespace mrfp::loadgen {

void run_io_loop(ListenerMonitor& monitor, std::size_t receive_batch, std::size_t send_batch, std::atomic<Pacer*>& pacer,
                 const std::atomic<bool>& stop_sending, std::atomic<bool>& sending_done,
                 const std::atomic<bool>& stop, IoLoopTotals& totals) {
  std::vector<ReceivedDatagram> batch(std::max<std::size_t>(1, receive_batch));
  const std::size_t drain_per_turn = std::max(batch.size(), send_batch);
  Pacer* sending = nullptr;
  std::int64_t last_receive_ns = 0;  // 0: not sending yet
  while (!stop.load(std::memory_order_relaxed)) {
    if (!sending && !sending_done.load(std::memory_order_relaxed)) sending = pacer.exchange(nullptr, std::memory_order_acquire);
    const std::int64_t now = monotonic_ns();
    if (sending && (sending->finished() || stop_sending.load(std::memory_order_relaxed))) {
      sending = nullptr;
      sending_done.store(true, std::memory_order_release);
    }
    // One batch, then what it may cost mrfpd's output: neither direction waits
    // for the other's whole backlog.
    bool ring_full = false;
    if (sending && sending->next_deadline_ns() <= now) ring_full = !sending->send_due(now);
    const std::int64_t receive_ns = monotonic_ns();
    if (sending && last_receive_ns != 0) {
      totals.longest_receive_gap_ns = std::max(totals.longest_receive_gap_ns, receive_ns - last_receive_ns);
    }
    last_receive_ns = sending ? receive_ns : 0;
    // As many frames as one send batch may cost mrfpd's output: our packets
    // are mixed into one frame per listener per tick, so draining a burst a
    // turn while sending a batch of 1,024 (catching up after a stall) let
    // mrfpd's TX ring overflow while this thread polled every 10 ms.
    std::size_t received = 0, burst = 0;
    do {
      burst = monitor.receive(batch, 0);
      received += burst;
    } while (burst == batch.size() && received < drain_per_turn);
    if (received > 0) continue;
    const std::int64_t next_send = !sending ? Pacer::kNever : ring_full ? now + kRingFullRetryNs : sending->next_deadline_ns();
    const std::int64_t wake = std::min(now + kIdlePollNs, next_send);
    if (wake > monotonic_ns()) sleep_until_ns(wake);
  }
  if (sending) sending_done.store(true, std::memory_order_release);
}

}  // namespace mrfp::loadgen
