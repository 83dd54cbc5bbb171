#include "bench/peer/paced_sender.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mrfp::loadgen {

namespace {
// 127.16.0.1 upwards: clear of 127.0.0.0/16 where daemons usually listen.
constexpr std::uint32_t kFirstParticipantAddress = 0x7F100001u;
constexpr std::uint32_t kParticipantAddressCount = 1u << 20;
// Linux caps one sendmmsg at UIO_MAXIOV messages.
constexpr std::size_t kMaxBatch = 1024;
// Packets due within this much of now go out in the same batch: one frame's
// packets share a deadline, and waking per packet would cost more than it gains.
constexpr std::int64_t kBatchSlackNs = 100'000;
}  // namespace

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

in_addr participant_address(std::uint32_t index) {
  in_addr address{};
  address.s_addr = htonl(kFirstParticipantAddress + index);
  return address;
}

bool participant_index_of(in_addr address, std::uint32_t& index) {
  const std::uint32_t host = ntohl(address.s_addr);
  if (host < kFirstParticipantAddress || host - kFirstParticipantAddress >= kParticipantAddressCount) return false;
  index = host - kFirstParticipantAddress;
  return true;
}

SharedUdpSocket::SharedUdpSocket() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket(): " + std::string(std::strerror(errno)));
  const int on = 1;
  setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  // Every listener's stream lands here, a whole conference tick at once: the
  // buffer must hold a burst. FORCE needs CAP_NET_ADMIN; otherwise rmem_max caps it.
  const int buffer = 256 << 20;
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  }
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) {
    ::close(fd_);
    throw std::runtime_error("bind(): " + std::string(std::strerror(errno)));
  }
  socklen_t length = sizeof any;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&any), &length);
  port_ = ntohs(any.sin_port);
}

SharedUdpSocket::~SharedUdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

PacedSender::PacedSender(int socket_fd, std::vector<sockaddr_in> destinations)
    : fd_(socket_fd), destinations_(std::move(destinations)) {}

SenderTotals PacedSender::run(std::span<const ScheduledSend> schedule, std::span<const PacketTrack> tracks,
                              std::int64_t start_ns, std::span<std::int64_t> marked_send_ns,
                              const std::atomic<bool>& stop) {
  struct Control {
    alignas(cmsghdr) std::uint8_t bytes[CMSG_SPACE(sizeof(in_pktinfo))];
  };
  std::vector<mmsghdr> messages(kMaxBatch);
  std::vector<iovec> iovecs(kMaxBatch);
  std::vector<Control> controls(kMaxBatch);
  SenderTotals totals;
  std::size_t next = 0;
  while (next < schedule.size() && !stop.load(std::memory_order_relaxed)) {
    const std::int64_t deadline = start_ns + schedule[next].offset_ns;
    if (monotonic_ns() < deadline) {
      // Absolute deadline: a late wake-up does not push later frames back.
      const timespec wake{static_cast<time_t>(deadline / 1'000'000'000), static_cast<long>(deadline % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) == EINTR) {
      }
    }
    const std::int64_t now = monotonic_ns();
    std::size_t count = 0;
    const std::size_t first = next;
    while (next < schedule.size() && count < kMaxBatch && start_ns + schedule[next].offset_ns <= now + kBatchSlackNs) {
      const ScheduledSend& send = schedule[next];
      const auto packet = tracks[send.participant].packet(send.packet);
      iovecs[count] = {const_cast<std::uint8_t*>(packet.data()), packet.size()};
      msghdr& header = messages[count].msg_hdr;
      header = {};
      header.msg_name = &destinations_[send.participant];
      header.msg_namelen = sizeof(sockaddr_in);
      header.msg_iov = &iovecs[count];
      header.msg_iovlen = 1;
      header.msg_control = controls[count].bytes;
      header.msg_controllen = sizeof controls[count].bytes;
      cmsghdr* control = CMSG_FIRSTHDR(&header);
      control->cmsg_level = IPPROTO_IP;
      control->cmsg_type = IP_PKTINFO;
      control->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst = participant_address(send.participant);
      std::memcpy(CMSG_DATA(control), &info, sizeof info);
      ++count;
      ++next;
    }
    std::size_t done = 0;
    while (done < count) {
      const int sent = sendmmsg(fd_, messages.data() + done, static_cast<unsigned>(count - done), 0);
      if (sent < 0) {
        if (errno == EINTR) continue;
        ++totals.send_errors;  // skip the packet that failed, keep pacing
        ++done;
        continue;
      }
      done += static_cast<std::size_t>(sent);
      totals.sent += static_cast<std::uint64_t>(sent);
    }
    const std::int64_t sent_at = monotonic_ns();
    totals.max_batch_ns = std::max(totals.max_batch_ns, sent_at - now);
    for (std::size_t i = first; i < next; ++i) {
      // When its batch started: the batch's own duration is reported apart.
      const std::int64_t lateness = now - (start_ns + schedule[i].offset_ns);
      totals.max_lateness_ns = std::max(totals.max_lateness_ns, lateness);
      if (lateness > 1'000'000) ++totals.late_over_1ms;
      if (schedule[i].mark != kNoMark && schedule[i].mark < marked_send_ns.size()) {
        marked_send_ns[schedule[i].mark] = sent_at;
      }
    }
  }
  return totals;
}

}  // namespace mrfp::loadgen
