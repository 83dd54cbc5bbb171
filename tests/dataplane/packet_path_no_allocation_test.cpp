// The dataplane's packet path allocates nothing: stage(), flush() and the tick
// (mix, packetise, protect once, replicate) run with every C++ allocation
// counted (global operator new replaced in this executable), through SSRC
// latching on first packets and output SSRC replacements, which both claim in
// the conference's SSRC registry. Under AddressSanitizer the test is skipped.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/peer/sim_participant.h"
#include "dataplane/conference.h"
#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"
#include "count_allocations.h"

namespace mrfp::dataplane {
namespace {

// Takes every datagram, or (refusing) only the first of each call, as a full
// TX ring would.
class CountingTransmitter final : public Transmitter {
 public:
  std::size_t send_to_many(std::span<const std::uint8_t>, std::span<const Destination> destinations) override {
    datagrams += destinations.size();
    const std::size_t taken = refusing ? std::min<std::size_t>(1, destinations.size()) : destinations.size();
    refused += destinations.size() - taken;
    return taken;
  }
  bool refusing = false;
  std::uint64_t datagrams = 0, refused = 0;
};

TEST(PacketPathNoAllocation, StageFlushAndTickNeverAllocateThroughLatchingAndSsrcReplacement) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces operator new";
#endif
  constexpr std::uint32_t kParticipants = 20;
  constexpr int kFrames = 120;
  constexpr std::size_t kSlot = 2048;
  const srtp::MasterKey key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 9);
  srtp::IpsecMbEngine engine;
  srtp::ProcessorOptions options;
  options.max_streams = 2 * kParticipants + 16;
  options.max_master_keys = 8;
  ConferenceSpec spec;
  spec.codecs = {mixer::Codec::Pcmu};
  spec.group_key = key;
  WorkerEventRing events;
  std::atomic<std::uint64_t> events_dropped{0};
  // An output SSRC is replaced every 16 packets: several replacements per run.
  auto created = Conference::create(1, spec, kParticipants, std::chrono::milliseconds(2000), 16,
                                    std::make_unique<srtp::SrtpSession>(engine, options), events, events_dropped, 5);
  ASSERT_TRUE(created) << created.error().message;
  Conference& conference = *created.value();

  std::vector<std::uint32_t> indexes;
  std::vector<sockaddr_storage> sources;
  std::vector<std::vector<std::uint8_t>> packets;  // participant-major
  for (std::uint32_t i = 0; i < kParticipants; ++i) {
    sim::ParticipantConfig config{.codec = mixer::Codec::Pcmu, .ssrc = 0x5000 + i, .tone_hz = 300.0 + 40 * i,
                                  .level_ext_id = 1, .send_key = key, .receive_key = key};
    sim::SimParticipant peer(config);
    ParticipantSpec p;
    p.conference = 1;
    if (i % 2 == 0) p.declared_ssrc = config.ssrc;  // the odd ones latch their first authenticated SSRC
    p.audio_level_ext_id = 1;
    p.remote = Endpoint::parse("192.0.2.1", static_cast<std::uint16_t>(10000 + i));
    auto added = conference.add_participant(i + 1, p, i, *Endpoint::parse("192.0.2.2", 20000));
    ASSERT_TRUE(added) << added.error().message;
    indexes.push_back(*conference.participant_index(i + 1));
    sources.push_back(p.remote->address);
    for (int f = 0; f < kFrames; ++f) packets.push_back(peer.make_packet(i < 3 || (f / 40) == static_cast<int>(i)));
  }
  std::vector<std::uint8_t> buffers(kParticipants * kSlot);
  std::vector<ReceivedDatagram> burst(kParticipants);
  CountingTransmitter transmitter;
  std::int64_t now_us = 1'000'000;
  conference.start_clock(now_us);
  std::size_t counted = 0;
  {
    mrfp::test::CountAllocations guard;
    for (int frame = 0; frame < kFrames; ++frame) {
      for (std::uint32_t i = 0; i < kParticipants; ++i) {
        const auto& bytes = packets[i * kFrames + static_cast<std::size_t>(frame)];
        ReceivedDatagram& datagram = burst[i];
        datagram.data = buffers.data() + i * kSlot;
        std::memcpy(datagram.data, bytes.data(), bytes.size());
        datagram.length = static_cast<std::uint32_t>(bytes.size());
        datagram.capacity = kSlot;
        datagram.source = sources[i];
        datagram.arrival_us = now_us;
        conference.stage(indexes[i], datagram);
      }
      conference.flush();
      now_us += 20'000;
      transmitter.refusing = frame >= kFrames - 20;  // what the I/O refuses must be counted
      conference.tick_if_due(now_us, transmitter);
    }
    counted = guard.count();
  }

  const ConferenceStats stats = conference.stats();
  EXPECT_EQ(counted, 0u) << "allocations on the packet path";
  EXPECT_EQ(stats.counters.rx_packets, std::uint64_t{kParticipants} * kFrames);
  EXPECT_EQ(stats.counters.drop_auth_failed + stats.counters.drop_ssrc_mismatch + stats.counters.drop_malformed, 0u)
      << "every packet, latched participants' included, was accepted";
  EXPECT_GE(stats.counters.ssrc_rotations, 5u) << "output SSRCs were replaced while counting";
  EXPECT_GT(transmitter.datagrams, 0u);
  EXPECT_GT(transmitter.refused, 0u);
  EXPECT_EQ(stats.counters.tx_dropped, transmitter.refused) << "every datagram the I/O refused is counted";
  EXPECT_EQ(stats.counters.tx_packets + stats.counters.rtcp_tx + stats.counters.tx_dropped, transmitter.datagrams);
  // Arrivals exactly one frame apart: no jitter, so every buffer aims at its
  // minimum depth of one frame, which GetStats reports as jitter_buffer_ms.
  ASSERT_EQ(stats.participants.size(), std::size_t{kParticipants});
  for (const ParticipantStats& participant : stats.participants) EXPECT_EQ(participant.jitter_buffer_ms, 20.0);
}

}  // namespace
}  // namespace mrfp::dataplane
