// RFC 3550 §6.2 sender reports from a conference whose common stream has more
// listeners than one tick's share of reports: they go out a share per tick, a
// fresh SR each time, until every listener has had one, rather than all in the
// tick that also carries the media to all of them.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "bench/peer/sim_participant.h"
#include "dataplane/conference.h"
#include "dataplane/conference_internal.h"
#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"

namespace mrfp::dataplane {
namespace {

// Records, per tick, the sender reports handed over and who they were for.
class RecordingTransmitter final : public Transmitter {
 public:
  std::size_t send_to_many(std::span<const std::uint8_t> bytes, std::span<const Destination> destinations) override {
    // RFC 3550 §6.4.1: an SR's packet type is 200; SRTCP leaves the header in clear.
    if (bytes.size() >= 2 && bytes[1] == 200) {
      reports_this_tick += destinations.size();
      for (const Destination& destination : destinations) {
        reported_ports.insert(ntohs(reinterpret_cast<const sockaddr_in*>(&destination.remote)->sin_port));
      }
    } else {
      media_this_tick += destinations.size();
    }
    return destinations.size();
  }
  std::size_t reports_this_tick = 0, media_this_tick = 0;
  std::set<std::uint16_t> reported_ports;
};

TEST(SenderReports, ACommonStreamsReportsAreSpreadOverTicksAndReachEveryListener) {
  constexpr std::uint32_t kParticipants = 600;  // above two ticks' share
  constexpr std::size_t kSlot = 2048;
  const srtp::MasterKey key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 3);
  srtp::IpsecMbEngine engine;
  srtp::ProcessorOptions options;
  options.max_streams = 2 * kParticipants + 16;
  ConferenceSpec spec;
  spec.codecs = {mixer::Codec::Pcmu};
  spec.group_key = key;
  WorkerEventRing events;
  std::atomic<std::uint64_t> events_dropped{0};
  auto created = Conference::create(1, spec, kParticipants, std::chrono::milliseconds(2000), 1u << 15,
                                    std::make_unique<srtp::SrtpSession>(engine, options), events, events_dropped, 7);
  ASSERT_TRUE(created) << created.error().message;
  Conference& conference = *created.value();

  // One talker; everybody listens.
  sim::SimParticipant talker({.codec = mixer::Codec::Pcmu, .ssrc = 0x7000, .tone_hz = 440.0, .level_ext_id = 1,
                              .send_key = key, .receive_key = key});
  std::uint32_t talker_index = 0;
  sockaddr_storage talker_address{};
  for (std::uint32_t i = 0; i < kParticipants; ++i) {
    ParticipantSpec p;
    p.conference = 1;
    if (i == 0) p.declared_ssrc = 0x7000;
    p.audio_level_ext_id = 1;
    p.remote = Endpoint::parse("192.0.2.1", static_cast<std::uint16_t>(10000 + i));
    ASSERT_TRUE(conference.add_participant(i + 1, p, i, *Endpoint::parse("192.0.2.2", 20000)));
    if (i == 0) {
      talker_index = *conference.participant_index(1);
      talker_address = p.remote->address;
    }
  }

  RecordingTransmitter transmitter;
  std::vector<std::uint8_t> buffer(kSlot);
  std::int64_t now_us = 1'000'000;
  conference.start_clock(now_us);
  std::size_t ticks_with_reports = 0;
  for (int frame = 0; frame < 10; ++frame) {
    const std::vector<std::uint8_t> bytes = talker.make_packet(true);
    ReceivedDatagram datagram;
    datagram.data = buffer.data();
    std::memcpy(datagram.data, bytes.data(), bytes.size());
    datagram.length = static_cast<std::uint32_t>(bytes.size());
    datagram.capacity = kSlot;
    datagram.source = talker_address;
    datagram.arrival_us = now_us;
    conference.stage(talker_index, datagram);
    conference.flush();
    now_us += 20'000;
    transmitter.reports_this_tick = transmitter.media_this_tick = 0;
    conference.tick_if_due(now_us, transmitter);
    SCOPED_TRACE("frame " + std::to_string(frame));
    // The common stream's share, and the talker's own mix-minus stream (one listener).
    EXPECT_LE(transmitter.reports_this_tick, kSenderReportsPerTick + 1);
    if (transmitter.reports_this_tick > 0) ++ticks_with_reports;
  }
  EXPECT_EQ(transmitter.reported_ports.size(), std::size_t{kParticipants}) << "every listener had a report";
  EXPECT_GE(ticks_with_reports, (kParticipants + kSenderReportsPerTick - 1) / kSenderReportsPerTick);
}

}  // namespace
}  // namespace mrfp::dataplane
