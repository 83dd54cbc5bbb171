// The pacer over a transport whose ring fills: what the ring refuses is offered
// again, in order, and counted once.
#include "bench/loadgen/pacer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace mrfp::loadgen {
namespace {

// A polled transport with a ring of `room` packets that the test drains.
class RingTransport : public Transport {
 public:
  explicit RingTransport(std::size_t room) : room_(room) {}
  in_addr participant_address(std::uint32_t) const override { return {}; }
  std::uint16_t participant_port() const override { return 0; }
  void set_destinations(std::vector<sockaddr_in>) override {}
  std::size_t max_batch() const override { return 16; }
  SendOutcome send(std::span<const OutgoingPacket> packets) override {
    SendOutcome outcome;
    for (const OutgoingPacket& packet : packets) {
      if (ring.size() == room_) break;
      ring.push_back(packet.bytes[0]);
      ++outcome.sent;
    }
    outcome.deferred = packets.size() - outcome.sent;
    return outcome;
  }
  std::size_t receive(std::span<ReceivedDatagram>, int) override { return 0; }
  std::size_t max_receive_batch() const override { return 1; }
  std::uint64_t receive_drops() const override { return 0; }
  std::uint64_t stray_packets() const override { return 0; }

  std::vector<std::uint8_t> ring;       // what the "mixer" has not taken yet
  std::vector<std::uint8_t> delivered;  // what it took, in order

  void drain() {
    delivered.insert(delivered.end(), ring.begin(), ring.end());
    ring.clear();
  }

 private:
  std::size_t room_;
};

TEST(Pacer, PacketsAFullRingRefusedAreOfferedAgainInOrderAndCountedOnce) {
  // One participant, 40 one-byte packets numbered 0..39, all due at once;
  // packet 25 marked (an onset).
  PacketTrack track;
  std::vector<ScheduledSend> schedule;
  for (std::uint8_t i = 0; i < 40; ++i) {
    track.append(std::vector<std::uint8_t>{i});
    schedule.push_back({0, 0, i, i == 25 ? 0u : kNoMark});
  }
  std::vector<PacketTrack> tracks{track};
  std::vector<std::int64_t> marked(1, 0);
  RingTransport transport(/*room=*/6);
  const std::int64_t start = monotonic_ns();
  Pacer pacer(transport, schedule, tracks, start, marked);

  int calls = 0;
  while (!pacer.finished() && calls < 100) {
    const bool all_taken = pacer.send_due(monotonic_ns());
    EXPECT_EQ(all_taken, transport.ring.size() < 6 || pacer.finished());
    transport.drain();
    ++calls;
  }
  ASSERT_TRUE(pacer.finished());
  EXPECT_EQ(calls, 7);  // 6 a call through a 6-packet ring
  ASSERT_EQ(transport.delivered.size(), 40u);
  for (std::uint8_t i = 0; i < 40; ++i) EXPECT_EQ(transport.delivered[i], i);
  EXPECT_EQ(pacer.totals().sent, 40u);
  EXPECT_EQ(pacer.totals().send_errors, 0u);
  EXPECT_GE(marked[0], start);  // the onset's send time, set when it really went
  EXPECT_EQ(pacer.next_deadline_ns(), Pacer::kNever);
}

TEST(Pacer, NothingIsSentBeforeItsBatchSlack) {
  PacketTrack track;
  track.append(std::vector<std::uint8_t>{1});
  track.append(std::vector<std::uint8_t>{2});
  const std::vector<ScheduledSend> schedule{{0, 0, 0}, {10'000'000, 0, 1}};  // now, and 10 ms later
  std::vector<PacketTrack> tracks{track};
  RingTransport transport(8);
  const std::int64_t start = monotonic_ns();
  Pacer pacer(transport, schedule, tracks, start, {});
  EXPECT_TRUE(pacer.send_due(start));
  EXPECT_EQ(transport.ring, std::vector<std::uint8_t>{1});
  EXPECT_EQ(pacer.next_deadline_ns(), start + 10'000'000);
  EXPECT_FALSE(pacer.finished());
}

}  // namespace
}  // namespace mrfp::loadgen
