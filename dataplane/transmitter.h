// How a conference hands packets to the I/O backend without knowing which one:
// the same bytes to many destinations (replication), each destination named by
// the local socket/port it leaves from and the remote address it goes to.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <span>

namespace mrfp::dataplane {

struct Destination {
  std::uint32_t local_port_index = 0;  // the backend's handle of the local port
  sockaddr_storage remote{};
};

class Transmitter {
 public:
  virtual ~Transmitter() = default;
  // Sends `bytes` unchanged to every destination; returns how many were sent.
  virtual std::size_t send_to_many(std::span<const std::uint8_t> bytes,
                                   std::span<const Destination> destinations) = 0;
};

}  // namespace mrfp::dataplane
