// Preallocated storage for one burst of received UDP datagrams: buffers, source
// addresses, control messages and the mmsghdr array recvmmsg fills. Allocated
// once per worker; receiving never allocates.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mrfp::dataplane {

// One datagram of a burst: its bytes live in the burst's buffer, writable in place
// (SRTP unprotect decrypts there), with capacity bytes of room.
struct ReceivedDatagram {
  std::uint8_t* data = nullptr;
  std::uint32_t length = 0;
  std::uint32_t capacity = 0;
  std::uint32_t local_port_index = 0;  // the UdpSocketSet socket that took it
  std::uint16_t local_port = 0;        // host order
  bool truncated = false;              // larger than capacity: drop and count
  sockaddr_storage source{};
  std::int64_t arrival_us = 0;           // CLOCK_MONOTONIC when the burst was drained
  std::int64_t kernel_timestamp_ns = 0;  // SO_TIMESTAMPNS (CLOCK_REALTIME), 0 if absent

  std::span<std::uint8_t> bytes() const { return {data, length}; }
};

class ReceiveBurst {
 public:
  // capacity datagrams of buffer_size bytes each (1500 covers Ethernet MTU media;
  // room beyond the datagram stays available to the caller).
  explicit ReceiveBurst(std::size_t capacity = 64, std::size_t buffer_size = 2048);

  std::size_t capacity() const { return datagrams_.size(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ReceivedDatagram& operator[](std::size_t index) { return datagrams_[index]; }
  const ReceivedDatagram& operator[](std::size_t index) const { return datagrams_[index]; }
  ReceivedDatagram* begin() { return datagrams_.data(); }
  ReceivedDatagram* end() { return datagrams_.data() + size_; }
  std::size_t buffer_size() const { return buffer_size_; }

  // For a backend that fills a burst itself (DPDK copies or points into mbufs):
  // empty the burst, then claim slots one by one. A claimed slot is reset, its
  // data pointing at its own buffer_size() bytes; nullptr when the burst is full.
  void clear() { size_ = 0; }
  ReceivedDatagram* claim_slot();

 private:
  friend class UdpSocketSet;
  static constexpr std::size_t kControlSize = 64;  // CMSG_SPACE(sizeof(timespec)) with room
  std::uint8_t* slot_buffer(std::size_t slot) { return buffers_.data() + slot * buffer_size_; }

  std::size_t buffer_size_;
  std::size_t size_ = 0;
  std::vector<std::uint8_t> buffers_;
  std::vector<ReceivedDatagram> datagrams_;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> vectors_;
  std::vector<std::uint8_t> control_;
};

}  // namespace mrfp::dataplane
