// The kernel UDP socket backend over loopback (127.0.0.1 and ::1) only.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "dataplane/io/port_allocator.h"
#include "dataplane/io/receive_burst.h"
#include "dataplane/io/udp_socket_set.h"

namespace mrfp::dataplane {
namespace {

std::uint16_t port_of(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port)
                                       : ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

Endpoint loopback(const char* host, std::uint16_t port = 0) { return *Endpoint::parse(host, port); }

// Collects datagrams until `expected` arrived or a second passed.
std::vector<ReceivedDatagram> receive_all(UdpSocketSet& set, ReceiveBurst& burst, std::size_t expected,
                                          std::vector<std::vector<std::uint8_t>>* payloads = nullptr) {
  std::vector<ReceivedDatagram> all;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (all.size() < expected && std::chrono::steady_clock::now() < deadline) {
    set.receive_burst(burst, 20);
    for (const ReceivedDatagram& datagram : burst) {
      all.push_back(datagram);
      if (payloads) payloads->emplace_back(datagram.data, datagram.data + datagram.length);
    }
  }
  return all;
}

// A plain socket playing a participant.
class Peer {
 public:
  explicit Peer(const char* host) {
    const Endpoint local = loopback(host);
    fd_ = ::socket(local.address.ss_family, SOCK_DGRAM, 0);
    const socklen_t length = local.address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&local.address), length), 0);
    socklen_t name_length = sizeof address_.address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address_.address), &name_length);
  }
  ~Peer() { ::close(fd_); }
  void send_to(const Endpoint& to, const std::vector<std::uint8_t>& bytes) const {
    const socklen_t length = to.address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    ASSERT_EQ(::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to.address), length),
              static_cast<ssize_t>(bytes.size()));
  }
  const Endpoint& address() const { return address_; }

 private:
  int fd_ = -1;
  Endpoint address_;
};

TEST(PortAllocator, EvenPortsRoundRobinAndExhaustion) {
  auto ports = PortAllocator::create(20001, 20010, PortParity::Even);
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ(ports->capacity(), 5u);  // 20002, 20004, ..., 20010
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 5; ++i) {
    auto port = ports->allocate();
    ASSERT_TRUE(port.ok());
    EXPECT_EQ(port.value() % 2, 0);
    EXPECT_GE(port.value(), 20002);
    EXPECT_LE(port.value(), 20010);
    seen.insert(port.value());
  }
  EXPECT_EQ(seen.size(), 5u);
  const auto exhausted = ports->allocate();
  ASSERT_FALSE(exhausted.ok());
  EXPECT_EQ(exhausted.error().code, ErrorCode::ResourceExhausted);
  EXPECT_NE(exhausted.error().message.find("20002-20010 exhausted"), std::string::npos) << exhausted.error().message;

  ports->release(20004);
  ports->release(20004);  // twice: ignored
  ports->release(20005);  // not ours: ignored
  EXPECT_EQ(ports->in_use(), 4u);
  EXPECT_EQ(ports->allocate().value(), 20004);
  EXPECT_EQ(ports->reserve(20006).error().code, ErrorCode::AlreadyExists);
  EXPECT_EQ(ports->reserve(20007).error().code, ErrorCode::InvalidArgument);
}

TEST(PortAllocator, AnyParityAndInvalidRanges) {
  auto ports = PortAllocator::create(30000, 30002, PortParity::Any);
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ(ports->allocate().value(), 30000);
  EXPECT_EQ(ports->allocate().value(), 30001);
  ports->release(30000);
  // Round robin: the just-released port comes after the untouched one.
  EXPECT_EQ(ports->allocate().value(), 30002);
  EXPECT_EQ(ports->allocate().value(), 30000);
  EXPECT_EQ(PortAllocator::create(2, 1).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(PortAllocator::create(0, 10).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(PortAllocator::create(21, 21, PortParity::Even).error().code, ErrorCode::InvalidArgument);
}

TEST(UdpSocketSet, AllocatesPortsUntilTheRangeIsExhausted) {
  auto set = UdpSocketSet::create();
  ASSERT_TRUE(set.ok());
  // A range another process may partly hold: busy ports are skipped, not fatal.
  auto ports = PortAllocator::create(47100, 47107, PortParity::Even);
  ASSERT_TRUE(ports.ok());
  std::vector<std::uint32_t> opened;
  for (;;) {
    auto socket = set->open_in_range("127.0.0.1", ports.value());
    if (!socket) {
      EXPECT_EQ(socket.error().code, ErrorCode::ResourceExhausted);
      EXPECT_NE(socket.error().message.find("47100-47107"), std::string::npos) << socket.error().message;
      break;
    }
    EXPECT_EQ(port_of(socket->local.address) % 2, 0);
    opened.push_back(socket->index);
    ASSERT_LE(opened.size(), 4u);
  }
  EXPECT_GE(opened.size(), 1u);
  EXPECT_EQ(set->open_count(), opened.size());
  // Closing gives the port back; the next open succeeds again.
  ASSERT_TRUE(set->close(opened.front(), &ports.value()).ok());
  EXPECT_EQ(set->close(opened.front()).error().code, ErrorCode::NotFound);
  EXPECT_TRUE(set->open_in_range("127.0.0.1", ports.value()).ok());
}

TEST(UdpSocketSet, RejectsBadAddressesAndAFullSet) {
  UdpSocketSetConfig config;
  config.max_sockets = 2;
  auto set = UdpSocketSet::create(config);
  ASSERT_TRUE(set.ok());
  auto ports = PortAllocator::create(47200, 47299, PortParity::Any);
  EXPECT_EQ(set->open_in_range("localhost", ports.value()).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(set->open(Endpoint{}).error().code, ErrorCode::InvalidArgument);
  ASSERT_TRUE(set->open(loopback("127.0.0.1")).ok());
  const auto second = set->open(loopback("127.0.0.1"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(set->open(loopback("127.0.0.1")).error().code, ErrorCode::ResourceExhausted);
  ASSERT_TRUE(set->close(second->index).ok());
  const auto again = set->open(loopback("127.0.0.1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->index, second->index);  // index reused
}

void receive_burst_across_sockets(const char* host) {
  auto set = UdpSocketSet::create();
  ASSERT_TRUE(set.ok());
  std::vector<OpenedSocket> sockets;
  for (int i = 0; i < 8; ++i) {
    auto socket = set->open(loopback(host));
    if (!socket && i == 0 && std::strcmp(host, "::1") == 0) GTEST_SKIP() << "no IPv6 loopback";
    ASSERT_TRUE(socket.ok()) << socket.error().message;
    sockets.push_back(socket.value());
  }
  Peer peer(host);
  for (std::size_t round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      peer.send_to(sockets[i].local, {0x80, 0x00, static_cast<std::uint8_t>(round), static_cast<std::uint8_t>(i)});
    }
  }
  ReceiveBurst burst(16, 2048);  // smaller than the 24 waiting: two bursts at least
  std::vector<std::vector<std::uint8_t>> payloads;
  const auto all = receive_all(set.value(), burst, 24, &payloads);
  ASSERT_EQ(all.size(), 24u);
  std::vector<int> per_socket(sockets.size(), 0);
  for (std::size_t n = 0; n < all.size(); ++n) {
    const ReceivedDatagram& datagram = all[n];
    ASSERT_EQ(datagram.length, 4u);
    EXPECT_FALSE(datagram.truncated);
    ASSERT_LT(datagram.local_port_index, sockets.size());
    // The payload names the socket it was sent to.
    EXPECT_EQ(payloads[n][3], datagram.local_port_index);
    EXPECT_EQ(datagram.local_port, port_of(sockets[datagram.local_port_index].local.address));
    EXPECT_EQ(port_of(datagram.source), port_of(peer.address().address));
    EXPECT_EQ(datagram.source.ss_family, peer.address().address.ss_family);
    EXPECT_GT(datagram.kernel_timestamp_ns, 0);
    EXPECT_GT(datagram.arrival_us, 0);
    ++per_socket[datagram.local_port_index];
  }
  for (const int count : per_socket) EXPECT_EQ(count, 3);
}

TEST(UdpSocketSet, ReceivesABurstAcrossSeveralSocketsIpv4) { receive_burst_across_sockets("127.0.0.1"); }
TEST(UdpSocketSet, ReceivesABurstAcrossSeveralSocketsIpv6) { receive_burst_across_sockets("::1"); }

void send_to_fifty(const char* host) {
  auto sender = UdpSocketSet::create();
  auto listeners = UdpSocketSet::create();
  ASSERT_TRUE(sender.ok() && listeners.ok());
  const auto from = sender->open(loopback(host));
  if (!from && std::strcmp(host, "::1") == 0) GTEST_SKIP() << "no IPv6 loopback";
  ASSERT_TRUE(from.ok()) << from.error().message;
  std::vector<Destination> destinations;
  for (int i = 0; i < 50; ++i) {
    const auto listener = listeners->open(loopback(host));
    ASSERT_TRUE(listener.ok());
    destinations.push_back({from->index, listener->local.address});
  }
  std::vector<std::uint8_t> packet(172);
  for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i * 7);
  EXPECT_EQ(sender->send_to_many(packet, destinations), 50u);
  EXPECT_EQ(sender->send_counters().sent, 50u);

  ReceiveBurst burst(64, 2048);
  std::vector<std::vector<std::uint8_t>> payloads;
  const auto all = receive_all(listeners.value(), burst, 50, &payloads);
  ASSERT_EQ(all.size(), 50u);
  std::set<std::uint32_t> reached;
  for (std::size_t n = 0; n < all.size(); ++n) {
    EXPECT_EQ(payloads[n], packet);
    EXPECT_EQ(port_of(all[n].source), port_of(from->local.address));
    reached.insert(all[n].local_port_index);
  }
  EXPECT_EQ(reached.size(), 50u);
}

TEST(UdpSocketSet, SendToManyReachesFiftyDestinationsIpv4) { send_to_fifty("127.0.0.1"); }
TEST(UdpSocketSet, SendToManyReachesFiftyDestinationsIpv6) { send_to_fifty("::1"); }

TEST(UdpSocketSet, SendBurstAndPerDestinationFailures) {
  auto set = UdpSocketSet::create();
  ASSERT_TRUE(set.ok());
  const auto a = set->open(loopback("127.0.0.1"));
  const auto b = set->open(loopback("127.0.0.1"));
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<std::uint8_t> one = {1, 2, 3}, two = {4, 5, 6, 7};
  const std::vector<OutgoingDatagram> datagrams = {
      {a->index, one, &b->local.address}, {a->index, two, &b->local.address}, {b->index, two, &a->local.address}};
  EXPECT_EQ(set->send_burst(datagrams), 3u);
  ReceiveBurst burst;
  const auto all = receive_all(set.value(), burst, 3);
  ASSERT_EQ(all.size(), 3u);
  std::size_t at_b = 0;
  for (const auto& datagram : all) at_b += datagram.local_port_index == b->index;
  EXPECT_EQ(at_b, 2u);

  // An IPv6 destination on an IPv4 socket fails alone; an unknown socket is counted.
  const Endpoint v6 = loopback("::1", 9);
  const std::vector<Destination> mixed = {{a->index, v6.address}, {a->index, b->local.address}, {99, b->local.address}};
  EXPECT_EQ(set->send_to_many(one, mixed), 1u);
  EXPECT_EQ(set->send_counters().failed, 1u);
  EXPECT_EQ(set->send_counters().bad_socket, 1u);
}

TEST(UdpSocketSet, FlagsDatagramsLargerThanTheBuffer) {
  auto set = UdpSocketSet::create();
  ASSERT_TRUE(set.ok());
  const auto socket = set->open(loopback("127.0.0.1"));
  ASSERT_TRUE(socket.ok());
  Peer peer("127.0.0.1");
  peer.send_to(socket->local, std::vector<std::uint8_t>(100, 0xAB));
  ReceiveBurst burst(4, 64);
  const auto all = receive_all(set.value(), burst, 1);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].truncated);
  EXPECT_EQ(all[0].length, 64u);
}

TEST(ReceiveBurst, OtherBackendsClaimSlotsUntilFull) {
  ReceiveBurst burst(2, 32);
  burst.clear();
  ReceivedDatagram* first = burst.claim_slot();
  ReceivedDatagram* second = burst.claim_slot();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(burst.claim_slot(), nullptr);
  EXPECT_EQ(burst.size(), 2u);
  EXPECT_EQ(first->capacity, 32u);
  EXPECT_EQ(first->length, 0u);
  EXPECT_EQ(second->data, first->data + 32);
  burst.clear();
  EXPECT_TRUE(burst.empty());
}

// Shared-port mode versus a port per participant: the same 20 frames of one packet
// from each of 400 participants, received by one socket or by 400. Prints the
// drain rate of each; a measurement, the assertion only checks delivery.
TEST(UdpSocketSet, SharedPortVersusPortPerParticipant) {
  constexpr int kParticipants = 400;
  constexpr int kFrames = 20;
  Peer peer("127.0.0.1");
  const std::vector<std::uint8_t> packet(172, 0x55);
  for (const bool shared : {true, false}) {
    UdpSocketSetConfig config;
    config.receive_buffer_bytes = 4 << 20;
    auto set = UdpSocketSet::create(config);
    ASSERT_TRUE(set.ok());
    std::vector<Endpoint> targets;
    for (int i = 0; i < (shared ? 1 : kParticipants); ++i) {
      const auto socket = set->open(loopback("127.0.0.1"));
      ASSERT_TRUE(socket.ok());
      targets.push_back(socket->local);
    }
    ReceiveBurst burst(64, 2048);
    std::chrono::nanoseconds draining{0};
    std::size_t received = 0;
    for (int frame = 0; frame < kFrames; ++frame) {
      for (int i = 0; i < kParticipants; ++i) peer.send_to(targets[shared ? 0 : static_cast<std::size_t>(i)], packet);
      const auto start = std::chrono::steady_clock::now();
      std::size_t this_frame = 0;
      while (this_frame < static_cast<std::size_t>(kParticipants)) {
        const std::size_t got = set->receive_burst(burst, 100);
        if (got == 0) break;
        this_frame += got;
      }
      draining += std::chrono::steady_clock::now() - start;
      received += this_frame;
    }
    EXPECT_EQ(received, static_cast<std::size_t>(kParticipants * kFrames));
    const double ns_per_packet = static_cast<double>(draining.count()) / static_cast<double>(received);
    std::printf("%s: %zu datagrams drained, %.0f ns each (%.2f Mpps)\n",
                shared ? "shared port, 1 socket" : "port per participant, 400 sockets", received, ns_per_packet,
                1000.0 / ns_per_packet);
    RecordProperty(shared ? "shared_port_ns_per_packet" : "port_per_participant_ns_per_packet",
                   static_cast<int>(ns_per_packet));
  }
}

// The send side of the same choice: one 172-byte packet replicated to 400
// listeners per frame, from one shared socket (one sendmmsg of 400) or from each
// listener's own port (400 sendmmsg of one). A measurement; checks delivery counts.
TEST(UdpSocketSet, ReplicationFromSharedPortVersusPortPerParticipant) {
  constexpr std::size_t kListeners = 400;
  constexpr int kFrames = 20;
  auto sink = UdpSocketSet::create();
  ASSERT_TRUE(sink.ok());
  const auto sink_socket = sink->open(loopback("127.0.0.1"));
  ASSERT_TRUE(sink_socket.ok());
  const std::vector<std::uint8_t> packet(172, 0x66);
  for (const bool shared : {true, false}) {
    auto set = UdpSocketSet::create();
    ASSERT_TRUE(set.ok());
    std::vector<Destination> destinations;
    for (std::size_t i = 0; i < (shared ? 1 : kListeners); ++i) {
      const auto socket = set->open(loopback("127.0.0.1"));
      ASSERT_TRUE(socket.ok());
    }
    for (std::size_t i = 0; i < kListeners; ++i) {
      destinations.push_back({shared ? 0u : static_cast<std::uint32_t>(i), sink_socket->local.address});
    }
    std::size_t sent = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int frame = 0; frame < kFrames; ++frame) sent += set->send_to_many(packet, destinations);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    // Loopback drops what the sink's buffer cannot hold, but every send is accepted.
    EXPECT_EQ(sent, kListeners * kFrames);
    const double ns_per_packet = static_cast<double>(elapsed.count()) / static_cast<double>(sent);
    std::printf("%s: %zu datagrams sent, %.0f ns each (%.2f Mpps)\n",
                shared ? "send_to_many from 1 shared socket" : "send_to_many from 400 sockets", sent,
                ns_per_packet, 1000.0 / ns_per_packet);
  }
}

}  // namespace
}  // namespace mrfp::dataplane
