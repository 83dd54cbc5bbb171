// The dataplane's own share of the packet path, without I/O: what a worker
// does per received packet (RTP parse, SSRC and source checks, one SRTP
// unprotect burst per conference, jitter-buffer push) and per tick (mix,
// packetise, protect ONCE per output stream, replicate). Packets are SRTP made
// by libsrtp2 beforehand; the Transmitter only counts, and checks that every
// destination of an output frame gets the very same bytes (no payload copy,
// no re-encryption). The reference in the same run is libsrtp2 unprotecting
// the same packets alone.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "bench/peer/libsrtp_session.h"
#include "bench/peer/sim_participant.h"
#include "dataplane/conference.h"
#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"

namespace mrfp::bench {
namespace {

constexpr std::size_t kBurst = 32;
constexpr int kFrames = 40;
constexpr std::size_t kSlot = 2048;

// Counts what the tick hands to the I/O, and that replication shares one buffer.
class CountingTransmitter final : public dataplane::Transmitter {
 public:
  std::size_t send_to_many(std::span<const std::uint8_t> bytes,
                           std::span<const dataplane::Destination> destinations) override {
    ++calls;
    datagrams += destinations.size();
    bytes_handed += bytes.size();  // one buffer per call, however many destinations
    return destinations.size();
  }
  std::uint64_t calls = 0, datagrams = 0, bytes_handed = 0;
};

struct Fixture {
  explicit Fixture(std::uint32_t participants) {
    key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 42);
    srtp::ProcessorOptions options;
    options.max_streams = 2 * participants + 16;
    options.max_master_keys = 8;
    dataplane::ConferenceSpec spec;
    spec.codecs = {mixer::Codec::Pcmu};
    spec.group_key = key;
    auto created = dataplane::Conference::create(1, spec, participants, std::chrono::milliseconds(2000), 1u << 15,
                                                 std::make_unique<srtp::SrtpSession>(engine, options), events,
                                                 events_dropped, 7);
    if (!created) throw std::runtime_error(created.error().message);
    conference = std::move(created.value());
    // Every participant declares its SSRC and address; its packets: kFrames of
    // PCMU with an RFC 6464 level, three of them talking.
    for (std::uint32_t i = 0; i < participants; ++i) {
      sim::ParticipantConfig config{.codec = mixer::Codec::Pcmu, .ssrc = 0x10000 + i, .tone_hz = 300.0 + i,
                                    .level_ext_id = 1, .send_key = key, .receive_key = key};
      sim::SimParticipant peer(config);
      dataplane::ParticipantSpec p;
      p.conference = 1;
      p.declared_ssrc = config.ssrc;
      p.audio_level_ext_id = 1;
      p.remote = dataplane::Endpoint::parse("192.0.2.1", static_cast<std::uint16_t>(10000 + i));
      auto added = conference->add_participant(i + 1, p, i, *dataplane::Endpoint::parse("192.0.2.2", 20000));
      if (!added) throw std::runtime_error(added.error().message);
      indexes.push_back(*conference->participant_index(i + 1));
      sources.push_back(p.remote->address);
      for (int f = 0; f < kFrames; ++f) packets.push_back(peer.make_packet(i < 3));
    }
    count = participants;
    buffers.resize(packets.size() * kSlot);
  }

  // Frame-major order: frame f of every participant, then frame f+1.
  const std::vector<std::uint8_t>& packet(std::uint32_t participant, int frame) const {
    return packets[participant * kFrames + static_cast<std::size_t>(frame)];
  }

  srtp::IpsecMbEngine engine;
  srtp::MasterKey key;
  dataplane::WorkerEventRing events;
  std::atomic<std::uint64_t> events_dropped{0};
  std::unique_ptr<dataplane::Conference> conference;
  std::vector<std::uint32_t> indexes;
  std::vector<sockaddr_storage> sources;
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<std::uint8_t> buffers;
  std::uint32_t count = 0;
};

// RX: every packet of kFrames frames through stage()/flush() in bursts of 32,
// one tick after each frame (the tick is timed separately below, not here).
void BM_ReceivePath(benchmark::State& state) {
  const auto participants = static_cast<std::uint32_t>(state.range(0));
  std::uint64_t packets = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Fixture fixture(participants);
    CountingTransmitter transmitter;
    std::vector<dataplane::ReceivedDatagram> burst(kBurst);
    std::int64_t now_us = 1'000'000;
    fixture.conference->start_clock(now_us);
    state.ResumeTiming();
    for (int frame = 0; frame < kFrames; ++frame) {
      for (std::uint32_t first = 0; first < participants; first += kBurst) {
        const std::uint32_t n = std::min<std::uint32_t>(kBurst, participants - first);
        for (std::uint32_t k = 0; k < n; ++k) {
          const auto& bytes = fixture.packet(first + k, frame);
          auto& datagram = burst[k];
          // As a NIC would: the bytes land in the receive buffer.
          datagram.data = fixture.buffers.data() + ((first + k) * kFrames + frame) * kSlot;
          std::memcpy(datagram.data, bytes.data(), bytes.size());
          datagram.length = static_cast<std::uint32_t>(bytes.size());
          datagram.capacity = kSlot;
          datagram.source = fixture.sources[first + k];
          datagram.arrival_us = now_us;
          fixture.conference->stage(fixture.indexes[first + k], datagram);
        }
        fixture.conference->flush();
        packets += n;
      }
      state.PauseTiming();
      now_us += 20'000;
      fixture.conference->tick_if_due(now_us, transmitter);
      state.ResumeTiming();
    }
    state.PauseTiming();
    const auto stats = fixture.conference->stats();
    if (stats.counters.drop_auth_failed + stats.counters.drop_malformed + stats.counters.drop_replayed != 0) {
      state.SkipWithError("packets were dropped: the measurement would be of the wrong path");
    }
    state.ResumeTiming();
  }
  state.counters["ns/pkt"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate |
                                                                                  benchmark::Counter::kInvert);
  state.counters["Mpps"] = benchmark::Counter(static_cast<double>(packets) / 1e6, benchmark::Counter::kIsRate);
}

// The reference: libsrtp2 unprotecting the same packets, one call per packet.
void BM_LibsrtpUnprotect(benchmark::State& state) {
  const auto participants = static_cast<std::uint32_t>(state.range(0));
  std::uint64_t packets = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Fixture fixture(participants);
    sim::LibsrtpSession receiver(fixture.key, sim::LibsrtpSession::Direction::Inbound);
    std::vector<std::uint8_t> buffer(kSlot);
    state.ResumeTiming();
    for (int frame = 0; frame < kFrames; ++frame) {
      for (std::uint32_t i = 0; i < participants; ++i) {
        const auto& bytes = fixture.packet(i, frame);
        std::memcpy(buffer.data(), bytes.data(), bytes.size());
        if (receiver.unprotect(buffer.data(), static_cast<int>(bytes.size())) < 0) state.SkipWithError("libsrtp2 refused");
        ++packets;
      }
    }
  }
  state.counters["ns/pkt"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate |
                                                                                  benchmark::Counter::kInvert);
  state.counters["Mpps"] = benchmark::Counter(static_cast<double>(packets) / 1e6, benchmark::Counter::kIsRate);
}

// TX: one tick with everybody listening: mix, packetise, protect once per
// output stream, replicate. Counters say how many protects and how many
// datagrams, and the bytes handed to the I/O per datagram (the payload is
// handed once per output frame, not once per listener).
void BM_TickProtectOnceReplicate(benchmark::State& state) {
  const auto participants = static_cast<std::uint32_t>(state.range(0));
  Fixture fixture(participants);
  CountingTransmitter transmitter;
  std::vector<dataplane::ReceivedDatagram> burst(1);
  std::int64_t now_us = 1'000'000;
  fixture.conference->start_clock(now_us);
  int frame = 0;
  std::uint64_t ticks = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Keep the three talkers' jitter buffers fed so every tick has a mix.
    for (std::uint32_t i = 0; i < 3 && frame < kFrames; ++i) {
      const auto& bytes = fixture.packet(i, frame);
      auto& datagram = burst[0];
      datagram.data = fixture.buffers.data() + (i * kFrames + static_cast<std::size_t>(frame)) * kSlot;
      std::memcpy(datagram.data, bytes.data(), bytes.size());
      datagram.length = static_cast<std::uint32_t>(bytes.size());
      datagram.capacity = kSlot;
      datagram.source = fixture.sources[i];
      fixture.conference->stage(fixture.indexes[i], datagram);
      fixture.conference->flush();
    }
    ++frame;
    now_us += 20'000;
    state.ResumeTiming();
    fixture.conference->tick_if_due(now_us, transmitter);
    ++ticks;
  }
  const double per_tick = static_cast<double>(ticks);
  state.counters["datagrams/tick"] = static_cast<double>(transmitter.datagrams) / per_tick;
  state.counters["protects/tick"] = static_cast<double>(transmitter.calls) / per_tick;
  state.counters["payload_bytes_handed/datagram"] =
      transmitter.datagrams ? static_cast<double>(transmitter.bytes_handed) / static_cast<double>(transmitter.datagrams)
                            : 0.0;
}

BENCHMARK(BM_ReceivePath)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_LibsrtpUnprotect)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_TickProtectOnceReplicate)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond)->Iterations(30);

}  // namespace
}  // namespace mrfp::bench

BENCHMARK_MAIN();
