#include "bench/peer/paced_sender.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mrfp::loadgen {

namespace {
// 127.16.0.1 upwards: clear of 127.0.0.0/16 where daemons usually listen.
constexpr std::uint32_t kFirstParticipantAddress = 0x7F100001u;
constexpr std::uint32_t kParticipantAddressCount = 1u << 20;
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

}  // namespace mrfp::loadgen
