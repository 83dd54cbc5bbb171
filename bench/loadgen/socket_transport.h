// The kernel socket transport: one UDP socket for every participant (see
// bench/peer/paced_sender.h, SharedUdpSocket), each participant sending from
// its own loopback address chosen per message with IP_PKTINFO; one sendmmsg
// per batch, one recvmmsg drains every listener. mrfpd must run with
// --media-address 127.0.0.1.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <vector>

#include "bench/loadgen/transport.h"
#include "bench/peer/paced_sender.h"

namespace mrfp::loadgen {

class SocketTransport final : public Transport {
 public:
  SocketTransport();
  ~SocketTransport() override;

  in_addr participant_address(std::uint32_t participant) const override;
  std::uint16_t participant_port() const override { return socket_.port(); }
  void set_destinations(std::vector<sockaddr_in> destinations) override;

  std::size_t max_batch() const override { return kMaxBatch; }
  SendOutcome send(std::span<const OutgoingPacket> packets) override;

  std::size_t receive(std::span<ReceivedDatagram> out, int timeout_ms) override;
  std::size_t max_receive_batch() const override { return kReceiveBatch; }
  std::uint64_t receive_drops() const override { return socket_drops_; }
  std::uint64_t stray_packets() const override { return stray_; }

 private:
  static constexpr std::size_t kMaxBatch = 1024;  // Linux caps one sendmmsg at UIO_MAXIOV
  static constexpr std::size_t kReceiveBatch = 256;
  static constexpr std::size_t kMaxDatagram = 2048;

  struct SendControl;
  struct ReceiveSlot;

  int receive_now(std::size_t count);

  SharedUdpSocket socket_;
  std::vector<sockaddr_in> destinations_;
  // Allocated once: no allocation per packet.
  std::vector<mmsghdr> send_messages_;
  std::vector<iovec> send_iovecs_;
  std::vector<SendControl> send_controls_;
  std::vector<ReceiveSlot> receive_slots_;
  std::vector<mmsghdr> receive_messages_;
  std::uint64_t socket_drops_ = 0, stray_ = 0;
  std::int64_t realtime_to_monotonic_ns_ = 0;
};

}  // namespace mrfp::loadgen
