#include "dataplane/io/udp_socket_set.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace mrfp::dataplane {

namespace {

std::int64_t monotonic_us() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

socklen_t address_length(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

std::uint16_t port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

std::string errno_text(int error) { return std::string(std::strerror(error)); }

}  // namespace

Result<UdpSocketSet> UdpSocketSet::create(const UdpSocketSetConfig& config) {
  if (config.max_sockets == 0 || config.max_batch == 0) {
    return Error{ErrorCode::InvalidArgument, "UdpSocketSetConfig: max_sockets and max_batch must be positive"};
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Error{ErrorCode::Unavailable, "epoll_create1: " + errno_text(errno)};
  return UdpSocketSet(config, epoll_fd);
}

UdpSocketSet::UdpSocketSet(const UdpSocketSetConfig& config, int epoll_fd)
    : config_(config),
      epoll_fd_(epoll_fd),
      events_(std::min<std::size_t>(config.max_sockets, 1024)),
      send_messages_(std::min<std::size_t>(config.max_batch, 1024)),
      send_vectors_(send_messages_.size()) {
  sockets_.reserve(config.max_sockets);
  free_indexes_.reserve(config.max_sockets);
}

UdpSocketSet::UdpSocketSet(UdpSocketSet&& other) noexcept
    : config_(other.config_),
      epoll_fd_(other.epoll_fd_),
      sockets_(std::move(other.sockets_)),
      free_indexes_(std::move(other.free_indexes_)),
      open_count_(other.open_count_),
      events_(std::move(other.events_)),
      send_messages_(std::move(other.send_messages_)),
      send_vectors_(std::move(other.send_vectors_)),
      send_counters_(other.send_counters_),
      receive_errors_(other.receive_errors_) {
  other.epoll_fd_ = -1;
  other.sockets_.clear();
  other.open_count_ = 0;
}

UdpSocketSet::~UdpSocketSet() {
  for (const Socket& socket : sockets_) {
    if (socket.fd >= 0) ::close(socket.fd);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

int UdpSocketSet::descriptor(std::uint32_t index) const {
  return index < sockets_.size() ? sockets_[index].fd : -1;
}

Result<OpenedSocket> UdpSocketSet::open(const Endpoint& local) { return bind_socket(local, false); }

Result<OpenedSocket> UdpSocketSet::bind_socket(const Endpoint& local, bool from_allocator) {
  const int family = local.address.ss_family;
  if (family != AF_INET && family != AF_INET6) {
    return Error{ErrorCode::InvalidArgument, "local address is neither IPv4 nor IPv6"};
  }
  if (open_count_ == config_.max_sockets) {
    return Error{ErrorCode::ResourceExhausted,
                 "UDP socket set full: " + std::to_string(config_.max_sockets) + " sockets open"};
  }
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return Error{ErrorCode::Unavailable, "socket() for " + local.to_string() + ": " + errno_text(errno)};

  const int on = 1;
  const int traffic_class = config_.dscp << 2;
  if (family == AF_INET6) {
    // One socket, one family: an IPv6 socket never receives IPv4-mapped traffic.
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &traffic_class, sizeof traffic_class);
  } else {
    setsockopt(fd, IPPROTO_IP, IP_TOS, &traffic_class, sizeof traffic_class);
  }
  // Buffer sizes and timestamps are best effort: the kernel caps the former.
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &config_.receive_buffer_bytes, sizeof config_.receive_buffer_bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &config_.send_buffer_bytes, sizeof config_.send_buffer_bytes);
  if (config_.kernel_timestamps) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);

  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local.address), address_length(local.address)) != 0) {
    const int error = errno;
    ::close(fd);
    return Error{error == EADDRINUSE ? ErrorCode::AlreadyExists : ErrorCode::Unavailable,
                 "bind " + local.to_string() + ": " + errno_text(error)};
  }
  OpenedSocket opened;
  socklen_t length = sizeof opened.local.address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&opened.local.address), &length);

  std::uint32_t index;
  if (!free_indexes_.empty()) {
    index = free_indexes_.back();
    free_indexes_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(sockets_.size());
    sockets_.push_back({});
  }
  epoll_event event{};
  event.events = EPOLLIN;  // level-triggered: a socket left unread is reported again
  event.data.u32 = index;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    const int error = errno;
    ::close(fd);
    free_indexes_.push_back(index);
    return Error{ErrorCode::Unavailable, "epoll_ctl for " + local.to_string() + ": " + errno_text(error)};
  }
  sockets_[index] = Socket{fd, port_of(opened.local.address), from_allocator};
  ++open_count_;
  opened.index = index;
  return opened;
}

Result<OpenedSocket> UdpSocketSet::open_in_range(const std::string& local_address, PortAllocator& ports) {
  for (std::size_t attempt = 0; attempt < ports.capacity(); ++attempt) {
    Result<std::uint16_t> port = ports.allocate();
    if (!port) return port.error();
    const std::optional<Endpoint> local = Endpoint::parse(local_address, port.value());
    if (!local) {
      ports.release(port.value());
      return Error{ErrorCode::InvalidArgument, "local address '" + local_address + "' is not an IP address"};
    }
    Result<OpenedSocket> opened = bind_socket(*local, true);
    if (opened) return opened;
    ports.release(port.value());
    // Another process holds this port: try the next one; anything else is final.
    if (opened.error().code != ErrorCode::AlreadyExists) return opened.error();
  }
  return Error{ErrorCode::ResourceExhausted, "no free local port in " + std::to_string(ports.first()) + "-" +
                                                 std::to_string(ports.last()) + " on " + local_address};
}

Status UdpSocketSet::close(std::uint32_t index, PortAllocator* ports) {
  if (index >= sockets_.size() || sockets_[index].fd < 0) {
    return Error{ErrorCode::NotFound, "local port index " + std::to_string(index) + " is not open"};
  }
  Socket& socket = sockets_[index];
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, socket.fd, nullptr);
  ::close(socket.fd);
  if (ports != nullptr && socket.from_allocator) ports->release(socket.port);
  socket = Socket{};
  free_indexes_.push_back(index);
  --open_count_;
  return ok_status();
}

std::size_t UdpSocketSet::receive_burst(ReceiveBurst& burst, int timeout_ms) {
  burst.size_ = 0;
  if (burst.capacity() == 0) return 0;
  // Waits even with no socket open: the caller relies on the timeout to pace
  // itself, and returning at once would spin a core.
  const int ready = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (ready <= 0) return 0;
  const std::int64_t now_us = monotonic_us();
  for (int i = 0; i < ready && burst.size_ < burst.capacity(); ++i) {
    burst.size_ += drain(events_[static_cast<std::size_t>(i)].data.u32, burst, now_us);
  }
  return burst.size_;
}

std::size_t UdpSocketSet::drain(std::uint32_t index, ReceiveBurst& burst, std::int64_t now_us) {
  if (index >= sockets_.size() || sockets_[index].fd < 0) return 0;
  const Socket& socket = sockets_[index];
  const std::size_t first = burst.size_;
  const std::size_t room = burst.capacity() - first;
  for (std::size_t slot = first; slot < first + room; ++slot) {
    ReceivedDatagram& datagram = burst.datagrams_[slot];
    // Another backend may have pointed the slot elsewhere: always receive into our buffer.
    datagram.data = burst.slot_buffer(slot);
    datagram.capacity = static_cast<std::uint32_t>(burst.buffer_size_);
    burst.vectors_[slot] = {datagram.data, burst.buffer_size_};
    msghdr& header = burst.messages_[slot].msg_hdr;
    header = msghdr{};
    header.msg_name = &datagram.source;
    header.msg_namelen = sizeof datagram.source;
    header.msg_iov = &burst.vectors_[slot];
    header.msg_iovlen = 1;
    header.msg_control = burst.control_.data() + slot * ReceiveBurst::kControlSize;
    header.msg_controllen = ReceiveBurst::kControlSize;
  }
  int received;
  do {
    received = recvmmsg(socket.fd, &burst.messages_[first], static_cast<unsigned>(room), MSG_DONTWAIT, nullptr);
  } while (received < 0 && errno == EINTR);
  if (received < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) ++receive_errors_;
    return 0;
  }
  for (std::size_t slot = first; slot < first + static_cast<std::size_t>(received); ++slot) {
    ReceivedDatagram& datagram = burst.datagrams_[slot];
    msghdr& header = burst.messages_[slot].msg_hdr;
    datagram.length = std::min<std::uint32_t>(burst.messages_[slot].msg_len, datagram.capacity);
    datagram.truncated = (header.msg_flags & MSG_TRUNC) != 0;
    datagram.local_port_index = index;
    datagram.local_port = socket.port;
    datagram.arrival_us = now_us;
    datagram.kernel_timestamp_ns = 0;
    for (cmsghdr* control = CMSG_FIRSTHDR(&header); control != nullptr; control = CMSG_NXTHDR(&header, control)) {
      if (control->cmsg_level == SOL_SOCKET && control->cmsg_type == SCM_TIMESTAMPNS) {
        timespec stamp{};
        std::memcpy(&stamp, CMSG_DATA(control), sizeof stamp);
        datagram.kernel_timestamp_ns = static_cast<std::int64_t>(stamp.tv_sec) * 1000000000 + stamp.tv_nsec;
      }
    }
  }
  return static_cast<std::size_t>(received);
}

std::size_t UdpSocketSet::flush_batch(int fd, std::size_t count) {
  std::size_t offset = 0;
  std::size_t accepted = 0;
  while (offset < count) {
    const int sent = sendmmsg(fd, &send_messages_[offset], static_cast<unsigned>(count - offset), MSG_DONTWAIT);
    if (sent > 0) {
      accepted += static_cast<std::size_t>(sent);
      offset += static_cast<std::size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Socket buffer full: media is late anyway, drop the rest of this batch.
      send_counters_.would_block += count - offset;
      break;
    }
    // sendmmsg reports an error only for the first message: skip that one.
    ++send_counters_.failed;
    ++offset;
  }
  send_counters_.sent += accepted;
  return accepted;
}

std::size_t UdpSocketSet::send_to_many(std::span<const std::uint8_t> bytes,
                                       std::span<const Destination> destinations) {
  // One iovec for every message: the payload is shared, never copied per destination.
  iovec shared{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  std::size_t total = 0;
  std::size_t index = 0;
  while (index < destinations.size()) {
    const std::uint32_t local = destinations[index].local_port_index;
    if (local >= sockets_.size() || sockets_[local].fd < 0) {
      ++send_counters_.bad_socket;
      ++index;
      continue;
    }
    std::size_t count = 0;
    while (index < destinations.size() && destinations[index].local_port_index == local &&
           count < send_messages_.size()) {
      msghdr& header = send_messages_[count].msg_hdr;
      header = msghdr{};
      header.msg_name = const_cast<sockaddr_storage*>(&destinations[index].remote);
      header.msg_namelen = address_length(destinations[index].remote);
      header.msg_iov = &shared;
      header.msg_iovlen = 1;
      ++count;
      ++index;
    }
    total += flush_batch(sockets_[local].fd, count);
  }
  return total;
}

std::size_t UdpSocketSet::send_burst(std::span<const OutgoingDatagram> datagrams) {
  std::size_t total = 0;
  std::size_t index = 0;
  while (index < datagrams.size()) {
    const std::uint32_t local = datagrams[index].local_port_index;
    if (local >= sockets_.size() || sockets_[local].fd < 0 || datagrams[index].remote == nullptr) {
      ++send_counters_.bad_socket;
      ++index;
      continue;
    }
    std::size_t count = 0;
    while (index < datagrams.size() && datagrams[index].local_port_index == local &&
           datagrams[index].remote != nullptr && count < send_messages_.size()) {
      const OutgoingDatagram& datagram = datagrams[index];
      send_vectors_[count] = {const_cast<std::uint8_t*>(datagram.bytes.data()), datagram.bytes.size()};
      msghdr& header = send_messages_[count].msg_hdr;
      header = msghdr{};
      header.msg_name = const_cast<sockaddr_storage*>(datagram.remote);
      header.msg_namelen = address_length(*datagram.remote);
      header.msg_iov = &send_vectors_[count];
      header.msg_iovlen = 1;
      ++count;
      ++index;
    }
    total += flush_batch(sockets_[local].fd, count);
  }
  return total;
}

}  // namespace mrfp::dataplane
