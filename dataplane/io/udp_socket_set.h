// The kernel UDP socket backend: non-blocking sockets in one epoll, drained with
// recvmmsg into a preallocated burst, sent with sendmmsg. One socket per
// participant port (H.248 style) or one shared port for many participants
// (demultiplexed later by source address and SSRC): both are just sockets here.
// Owned and used by one worker thread; no locks, no allocation per packet.
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dataplane/controller.h"  // Endpoint
#include "dataplane/io/port_allocator.h"
#include "dataplane/io/receive_burst.h"
#include "dataplane/result.h"
#include "dataplane/transmitter.h"

namespace mrfp::dataplane {

struct UdpSocketSetConfig {
  std::size_t max_sockets = 4096;
  // Largest fan-out of one send_to_many / send_burst call handed to the kernel at
  // once (sendmmsg takes at most UIO_MAXIOV = 1024 messages); more is sent in chunks.
  std::size_t max_batch = 1024;
  int receive_buffer_bytes = 1 << 20;  // SO_RCVBUF asked (the kernel caps it at rmem_max)
  int send_buffer_bytes = 1 << 20;
  std::uint8_t dscp = 46;              // EF (RFC 3246) on IP_TOS / IPV6_TCLASS
  bool kernel_timestamps = true;       // SO_TIMESTAMPNS
};

struct OpenedSocket {
  std::uint32_t index = 0;  // local_port_index in ReceivedDatagram and Destination
  Endpoint local;           // the bound address and port
};

// One distinct datagram for send_burst.
struct OutgoingDatagram {
  std::uint32_t local_port_index = 0;
  std::span<const std::uint8_t> bytes;
  const sockaddr_storage* remote = nullptr;
};

struct SendCounters {
  std::uint64_t sent = 0;
  std::uint64_t would_block = 0;  // socket buffer full: dropped, not retried
  std::uint64_t failed = 0;       // other per-destination errors (family mismatch, unreachable)
  std::uint64_t bad_socket = 0;   // local_port_index not open
};

class UdpSocketSet final : public Transmitter {
 public:
  static Result<UdpSocketSet> create(const UdpSocketSetConfig& config = {});
  ~UdpSocketSet() override;
  UdpSocketSet(UdpSocketSet&& other) noexcept;
  UdpSocketSet& operator=(UdpSocketSet&&) = delete;
  UdpSocketSet(const UdpSocketSet&) = delete;
  UdpSocketSet& operator=(const UdpSocketSet&) = delete;

  // Binds a socket to exactly this address and port (port 0: the kernel picks).
  // InvalidArgument for an unset address, Unavailable when bind fails (the
  // message names the address and errno), ResourceExhausted at max_sockets.
  Result<OpenedSocket> open(const Endpoint& local);
  // Takes the next free port of the allocator on local_address (IPv4 or IPv6
  // text) and binds it; a port another process holds is given back and the next
  // one tried. ResourceExhausted (naming the range) when no port is left.
  Result<OpenedSocket> open_in_range(const std::string& local_address, PortAllocator& ports);
  // Closes the socket; the index may be reused by a later open. When it came from
  // open_in_range, pass the allocator to give the port back.
  Status close(std::uint32_t index, PortAllocator* ports = nullptr);

  // Waits up to timeout_ms (0: poll, -1: block) for readable sockets and drains
  // them with recvmmsg into burst until it is full. Returns the datagrams read.
  std::size_t receive_burst(ReceiveBurst& burst, int timeout_ms = 0);

  // Transmitter: the same bytes to every destination. Destinations are grouped by
  // runs of equal local_port_index, one sendmmsg per run: order them by local
  // port (the shared-port mode has a single run). Returns how many were sent.
  std::size_t send_to_many(std::span<const std::uint8_t> bytes,
                           std::span<const Destination> destinations) override;
  // Distinct datagrams; one sendmmsg per run of equal local_port_index.
  std::size_t send_burst(std::span<const OutgoingDatagram> datagrams);

  std::size_t open_count() const { return open_count_; }
  const SendCounters& send_counters() const { return send_counters_; }
  std::uint64_t receive_errors() const { return receive_errors_; }
  // The socket's file descriptor, for tests and diagnostics; -1 when not open.
  int descriptor(std::uint32_t index) const;

 private:
  struct Socket {
    int fd = -1;
    std::uint16_t port = 0;
    bool from_allocator = false;
  };

  explicit UdpSocketSet(const UdpSocketSetConfig& config, int epoll_fd);
  Result<OpenedSocket> bind_socket(const Endpoint& local, bool from_allocator);
  std::size_t drain(std::uint32_t index, ReceiveBurst& burst, std::int64_t now_us);
  // Sends messages [0, count) of the send arrays on one socket; returns accepted.
  std::size_t flush_batch(int fd, std::size_t count);

  UdpSocketSetConfig config_;
  int epoll_fd_ = -1;
  std::vector<Socket> sockets_;
  std::vector<std::uint32_t> free_indexes_;
  std::size_t open_count_ = 0;
  std::vector<epoll_event> events_;
  std::vector<mmsghdr> send_messages_;
  std::vector<iovec> send_vectors_;
  SendCounters send_counters_;
  std::uint64_t receive_errors_ = 0;
};

}  // namespace mrfp::dataplane
