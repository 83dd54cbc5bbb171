// Paces a precomputed schedule out of any Transport against absolute
// CLOCK_MONOTONIC deadlines (a late wake-up never pushes later frames back):
// the packets due within 100 µs of now go out as one batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>

#include "bench/loadgen/transport.h"
#include "bench/peer/paced_sender.h"

namespace mrfp::loadgen {

// Sends `schedule` (sorted by offset) from `tracks`, deadlines start_ns +
// offset_ns. `marked_send_ns[mark]` receives the actual send time of each
// marked packet. Returns early when `stop` becomes true. No allocation per packet.
// `receive_some`, if given, is this thread's receiver: called after every
// batch and while waiting for the next deadline, it takes one bounded batch
// without waiting and returns how many datagrams it took. A receiver in its
// own thread on the same core would hold the core for a whole burst of
// mixer output (10,000 datagrams a tick at scale) and make the sends late.
SenderTotals pace(Transport& transport, std::span<const ScheduledSend> schedule, std::span<const PacketTrack> tracks,
                  std::int64_t start_ns, std::span<std::int64_t> marked_send_ns, const std::atomic<bool>& stop,
                  const std::function<std::size_t()>& receive_some = {});

}  // namespace mrfp::loadgen
