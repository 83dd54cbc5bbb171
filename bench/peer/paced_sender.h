// What the load generator's pacing (bench/loadgen/pacer.h) and its kernel
// socket transport share: precomputed packet tracks and their schedule, and the
// one UDP socket of every simulated participant.
//
// All participants share one UDP socket bound to the wildcard address; each
// one sends from its own loopback source address (127.16.0.0/12 and up),
// chosen per message with IP_PKTINFO. That keeps every participant a distinct
// remote endpoint for the mixer (source check, its own output destination)
// while one sendmmsg carries a whole frame's worth of packets, and one
// recvmmsg drains every listener's stream. Loopback only: every 127/8 address
// is local on Linux.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <span>
#include <vector>

namespace mrfp::loadgen {

// The loopback source address of participant `index` (0-based, up to 2^20).
in_addr participant_address(std::uint32_t index);
// The inverse; false if `address` is not one of ours.
bool participant_index_of(in_addr address, std::uint32_t& index);

// A UDP socket bound to 0.0.0.0:<ephemeral>, with IP_PKTINFO, kernel receive
// timestamps and drop counts enabled, and large buffers. Throws on failure.
class SharedUdpSocket {
 public:
  SharedUdpSocket();
  ~SharedUdpSocket();
  SharedUdpSocket(const SharedUdpSocket&) = delete;
  SharedUdpSocket& operator=(const SharedUdpSocket&) = delete;
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// One participant's precomputed packets, back to back.
struct PacketTrack {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> offsets;  // offsets[i]..offsets[i+1] is packet i
  void append(std::span<const std::uint8_t> packet) {
    if (offsets.empty()) offsets.push_back(0);
    bytes.insert(bytes.end(), packet.begin(), packet.end());
    offsets.push_back(static_cast<std::uint32_t>(bytes.size()));
  }
  std::size_t size() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::span<const std::uint8_t> packet(std::size_t i) const {
    return {bytes.data() + offsets[i], offsets[i + 1] - offsets[i]};
  }
};

inline constexpr std::uint32_t kNoMark = UINT32_MAX;

struct ScheduledSend {
  std::int64_t offset_ns;  // from the run's start
  std::uint32_t participant;
  std::uint32_t packet;     // index into that participant's track
  std::uint32_t mark = kNoMark;  // when set: record the actual send time under this id
};

struct SenderTotals {
  std::uint64_t sent = 0, send_errors = 0;
  std::uint64_t late_over_1ms = 0;  // its batch started more than 1 ms after its deadline
  std::int64_t max_lateness_ns = 0;
  std::int64_t max_batch_ns = 0;     // the longest sendmmsg batch (loopback delivers inside it)
};

std::int64_t monotonic_ns();

}  // namespace mrfp::loadgen
