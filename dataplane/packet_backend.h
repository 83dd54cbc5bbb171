// What a worker needs of a packet I/O backend: open and close a participant's
// local UDP port, take a burst of received datagrams, and send the same bytes
// to many destinations (Transmitter). Two backends: kernel UDP sockets
// (SocketBackend, the default) and DPDK ethdev (dataplane/dpdk).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/io/port_allocator.h"
#include "dataplane/io/receive_burst.h"
#include "dataplane/io/udp_socket_set.h"
#include "dataplane/io_counter.h"
#include "dataplane/transmitter.h"

namespace mrfp::dataplane {

class PacketBackend : public Transmitter {
 public:
  // Takes the next free port of `ports` on local_address and starts receiving
  // on it; the returned index names it in ReceivedDatagram and Destination.
  virtual Result<OpenedSocket> open_in_range(const std::string& local_address, PortAllocator& ports) = 0;
  virtual Status close(std::uint32_t index, PortAllocator* ports) = 0;
  // Fills `burst` (at most its capacity), waiting up to timeout_ms for the
  // first datagram. Datagrams stay valid until the next call.
  virtual std::size_t receive_burst(ReceiveBurst& burst, int timeout_ms) = 0;
  // Called once on the worker's own thread before its first burst (DPDK makes
  // the thread an lcore there: per-lcore mempool caches, and its own core).
  virtual void attach_worker_thread() {}
  // Appends the backend's own counters (called on the worker's thread).
  virtual void report_io_counters(std::vector<IoCounter>& out) const { (void)out; }
};

// The kernel UDP socket backend: one non-blocking socket per port, epoll,
// recvmmsg and sendmmsg (UdpSocketSet).
class SocketBackend final : public PacketBackend {
 public:
  explicit SocketBackend(UdpSocketSet sockets) : sockets_(std::move(sockets)) {}
  Result<OpenedSocket> open_in_range(const std::string& local_address, PortAllocator& ports) override {
    return sockets_.open_in_range(local_address, ports);
  }
  Status close(std::uint32_t index, PortAllocator* ports) override { return sockets_.close(index, ports); }
  std::size_t receive_burst(ReceiveBurst& burst, int timeout_ms) override {
    return sockets_.receive_burst(burst, timeout_ms);
  }
  std::size_t send_to_many(std::span<const std::uint8_t> bytes, std::span<const Destination> destinations) override {
    return sockets_.send_to_many(bytes, destinations);
  }

 private:
  UdpSocketSet sockets_;
};

}  // namespace mrfp::dataplane
