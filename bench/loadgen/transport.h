// The load generator's packet I/O, behind one small interface so the pacing
// (pacer.h) and the listener monitor (listener_monitor.h) are the same code on
// every transport:
//   SocketTransport (socket_transport.h): one kernel UDP socket, loopback
//     source address per participant (sendmmsg / recvmmsg);
//   MemifTransport (memif_transport.h): a DPDK net_memif client port, its own
//     IPv4/MAC on the link, frames built with dataplane/packet.
// A socket transport is used by two threads, one sending and one receiving; a
// polled one (memif) by one thread that does both (io_loop.h).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mrfp::loadgen {

// One packet a participant sends (precomputed SRTP bytes, not copied by the caller).
struct OutgoingPacket {
  std::uint32_t participant = 0;
  std::span<const std::uint8_t> bytes;
};

// One UDP payload a listener received. `bytes` stays valid (and writable, for
// in-place SRTP unprotect) until the next receive() call.
struct ReceivedDatagram {
  std::uint32_t participant = 0;
  std::uint8_t* bytes = nullptr;
  std::size_t length = 0;
  std::int64_t arrival_ns = 0;  // CLOCK_MONOTONIC
};

// How long a polled transport's I/O thread sleeps when its RX ring is empty.
// A 20 µs poll spent most of the thread in context switches (perf:
// finish_task_switch), and each wake-up costs tens of µs of CPU on a VM
// (pacer.cpp); a memif RX ring (2^rsize frames) holds far more than mrfpd sends
// in 500 µs. Arrival stamps are taken per burst, so they may be up to this late
// (a latency is then measured long, never short).
inline constexpr std::int64_t kIdlePollNs = 500'000;

struct SendOutcome {
  std::uint64_t sent = 0, errors = 0;
  // The last `deferred` packets offered, not taken because the device's ring
  // was full: the caller offers them again (polled transports only).
  std::uint64_t deferred = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // What mrfpd is told about participant p (AddParticipant's remote): its
  // address and the UDP port every participant sends from.
  virtual in_addr participant_address(std::uint32_t participant) const = 0;
  virtual std::uint16_t participant_port() const = 0;
  // Where each participant sends (its port at the mixer), from the set-up.
  // May block to resolve the mixer's link-layer address.
  virtual void set_destinations(std::vector<sockaddr_in> destinations) = 0;

  // Called on the sending and on the receiving thread before their first
  // send() / receive(), and when they end: a transport may keep per-thread
  // state (DPDK: an lcore id, so each thread takes its buffers from its own
  // mempool cache rather than from the shared ring).
  virtual void attach_io_thread() {}
  virtual void detach_io_thread() {}

  // The most packets one send() takes.
  virtual std::size_t max_batch() const = 0;
  // Sends the packets in order; what could not be sent is counted in errors.
  // A transport that blocks (a socket) takes every packet. A polled one never
  // waits for its ring: it stops where the ring is full and returns the rest
  // as deferred, so its one I/O thread goes on receiving (io_loop.h).
  virtual SendOutcome send(std::span<const OutgoingPacket> packets) = 0;

  // Waits up to timeout_ms for datagrams addressed to participants and returns
  // how many it put in `out` (0 on timeout). Frames that are not for a
  // participant are counted (stray_packets) or answered (ARP) here.
  virtual std::size_t receive(std::span<ReceivedDatagram> out, int timeout_ms) = 0;
  virtual std::size_t max_receive_batch() const = 0;
  // Frames mrfpd can queue toward us before it must drop (a memif ring's
  // slots); 0 when the kernel buffers them (a socket, whose overflow is
  // receive_drops()). The load generator stalling longer than these frames
  // last loses them, whatever mrfpd does (load_run.h: a void run).
  virtual std::size_t receive_ring_frames() const { return 0; }
  // Datagrams lost before the monitor saw them (socket buffer overflow, RX ring
  // or mbuf pool exhausted): a load generator bottleneck.
  virtual std::uint64_t receive_drops() const = 0;
  virtual std::uint64_t stray_packets() const = 0;
};

}  // namespace mrfp::loadgen
