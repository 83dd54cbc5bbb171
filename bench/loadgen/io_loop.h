// All of a polled transport's I/O (memif) on one thread, the way a DPDK
// application runs to completion on its lcore: send what is due, receive as
// much as that may cost mrfpd's output, and sleep only when neither has work.
//
// With a sending and a receiving thread on the one I/O core, the receiver
// (real-time, above the sender, so mrfpd's RX ring cannot overflow) drained
// each tick's 15,000 listener packets in one go while the sender waited: 20%
// of the packets left more than 1 ms late, up to 40 ms, and that jitter went
// into mrfpd's jitter buffers. Here a packet waits for at most one turn's
// receive (1,024 frames over memif).
#pragma once

#include <atomic>
#include <cstdint>

#include "bench/loadgen/listener_monitor.h"
#include "bench/loadgen/pacer.h"

namespace mrfp::loadgen {

struct IoLoopTotals {
  // The longest time between two receive polls while sending: longer than
  // mrfpd's TX ring lasts, and mrfpd drops what it sends meanwhile, through no
  // fault of its own (load_run.h: a void run). Counts stalls of this thread,
  // the kernel's and the hypervisor's alike.
  std::int64_t longest_receive_gap_ns = 0;
};

// Receives into `monitor` until `stop`, up to `send_batch` frames a turn (in
// bursts of `receive_batch`), as many as a turn's send may cost mrfpd's output. Once a Pacer is offered through
// `pacer` (the loop takes it and leaves nullptr) it also sends, until the
// schedule ends or `stop_sending`; then it sets `sending_done` (release: the
// pacer's totals are final) and goes on receiving. `totals` is final when
// it returns.
void run_io_loop(ListenerMonitor& monitor, std::size_t receive_batch, std::size_t send_batch, std::atomic<Pacer*>& pacer,
                 const std::atomic<bool>& stop_sending, std::atomic<bool>& sending_done,
                 const std::atomic<bool>& stop, IoLoopTotals& totals);

}  // namespace mrfp::loadgen
