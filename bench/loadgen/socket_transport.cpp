#include "bench/loadgen/socket_transport.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mrfp::loadgen {

namespace {
std::int64_t clock_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

struct SocketTransport::SendControl {
  alignas(cmsghdr) std::uint8_t bytes[CMSG_SPACE(sizeof(in_pktinfo))];
};

struct SocketTransport::ReceiveSlot {
  std::uint8_t data[kMaxDatagram];
  alignas(cmsghdr) std::uint8_t control[256];
  sockaddr_in source;
  iovec iov;
};

SocketTransport::SocketTransport()
    : send_messages_(kMaxBatch),
      send_iovecs_(kMaxBatch),
      send_controls_(kMaxBatch),
      receive_slots_(kReceiveBatch),
      receive_messages_(kReceiveBatch) {
  // Kernel receive stamps are CLOCK_REALTIME; the sender's deadlines are monotonic.
  realtime_to_monotonic_ns_ = clock_ns(CLOCK_MONOTONIC) - clock_ns(CLOCK_REALTIME);
}

SocketTransport::~SocketTransport() = default;

in_addr SocketTransport::participant_address(std::uint32_t participant) const {
  return loadgen::participant_address(participant);
}

void SocketTransport::set_destinations(std::vector<sockaddr_in> destinations) {
  destinations_ = std::move(destinations);
}

SendOutcome SocketTransport::send(std::span<const OutgoingPacket> packets) {
  SendOutcome outcome;
  const std::size_t count = std::min(packets.size(), kMaxBatch);
  outcome.errors += packets.size() - count;
  for (std::size_t i = 0; i < count; ++i) {
    const OutgoingPacket& packet = packets[i];
    send_iovecs_[i] = {const_cast<std::uint8_t*>(packet.bytes.data()), packet.bytes.size()};
    msghdr& header = send_messages_[i].msg_hdr;
    header = {};
    header.msg_name = &destinations_[packet.participant];
    header.msg_namelen = sizeof(sockaddr_in);
    header.msg_iov = &send_iovecs_[i];
    header.msg_iovlen = 1;
    header.msg_control = send_controls_[i].bytes;
    header.msg_controllen = sizeof send_controls_[i].bytes;
    cmsghdr* control = CMSG_FIRSTHDR(&header);
    control->cmsg_level = IPPROTO_IP;
    control->cmsg_type = IP_PKTINFO;
    control->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst = participant_address(packet.participant);
    std::memcpy(CMSG_DATA(control), &info, sizeof info);
  }
  std::size_t done = 0;
  while (done < count) {
    const int sent = sendmmsg(socket_.fd(), send_messages_.data() + done, static_cast<unsigned>(count - done), 0);
    if (sent < 0) {
      if (errno == EINTR) continue;
      ++outcome.errors;  // skip the packet that failed, keep pacing
      ++done;
      continue;
    }
    done += static_cast<std::size_t>(sent);
    outcome.sent += static_cast<std::uint64_t>(sent);
  }
  return outcome;
}

int SocketTransport::receive_now(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    ReceiveSlot& slot = receive_slots_[i];
    slot.iov = {slot.data, kMaxDatagram};
    msghdr& header = receive_messages_[i].msg_hdr;
    header = {};
    header.msg_name = &slot.source;
    header.msg_namelen = sizeof(sockaddr_in);
    header.msg_iov = &slot.iov;
    header.msg_iovlen = 1;
    header.msg_control = slot.control;
    header.msg_controllen = sizeof slot.control;
  }
  return recvmmsg(socket_.fd(), receive_messages_.data(), static_cast<unsigned>(count), MSG_DONTWAIT, nullptr);
}

std::size_t SocketTransport::receive(std::span<ReceivedDatagram> out, int timeout_ms) {
  const std::size_t capacity = std::min(out.size(), kReceiveBatch);
  int received = receive_now(capacity);
  if (received <= 0) {
    pollfd waiting{socket_.fd(), POLLIN, 0};
    if (poll(&waiting, 1, timeout_ms) <= 0) return 0;
    received = receive_now(capacity);
    if (received <= 0) return 0;
  }
  const std::int64_t fallback_arrival = clock_ns(CLOCK_MONOTONIC);
  std::size_t delivered = 0;
  for (int i = 0; i < received; ++i) {
    msghdr& header = receive_messages_[static_cast<std::size_t>(i)].msg_hdr;
    std::int64_t arrival = fallback_arrival;
    bool addressed = false;
    std::uint32_t participant = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        addressed = participant_index_of(info.ipi_addr, participant);
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
        timespec stamp{};
        std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
        arrival = std::int64_t{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec + realtime_to_monotonic_ns_;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        std::uint32_t drops = 0;
        std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
        socket_drops_ = std::max<std::uint64_t>(socket_drops_, drops);
      }
    }
    if (!addressed) {
      ++stray_;
      continue;
    }
    out[delivered++] = {participant, receive_slots_[static_cast<std::size_t>(i)].data,
                        receive_messages_[static_cast<std::size_t>(i)].msg_len, arrival};
  }
  return delivered;
}

}  // namespace mrfp::loadgen
