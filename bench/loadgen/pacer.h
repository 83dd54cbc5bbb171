// Paces a precomputed schedule out of any Transport against absolute
// CLOCK_MONOTONIC deadlines (a late wake-up never pushes later frames back):
// the packets due within 500 µs of now go out as one batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "bench/loadgen/transport.h"
#include "bench/peer/paced_sender.h"

namespace mrfp::loadgen {

// Sends `schedule` (sorted by offset) from `tracks`, deadlines start_ns +
// offset_ns. `marked_send_ns[mark]` receives the actual send time of each
// marked packet. Returns early when `stop` becomes true. No allocation per packet.
SenderTotals pace(Transport& transport, std::span<const ScheduledSend> schedule, std::span<const PacketTrack> tracks,
                  std::int64_t start_ns, std::span<std::int64_t> marked_send_ns, const std::atomic<bool>& stop);

}  // namespace mrfp::loadgen
