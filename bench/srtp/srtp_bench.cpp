// ns per packet for protect and unprotect, every suite, payloads 20/80/160/1200
// bytes, bursts 1/8/32/64, one SSRC per burst position (a conference: many
// streams under one group key). Engines: "ipsec-mb" (SrtpSession over
// IpsecMbEngine) and "libsrtp" (LibsrtpReference), side by side; a summary
// table at the end gives libsrtp time / our time.
//
// unprotect copies each protected packet into the working buffer before
// unprotecting it (the operation is in place); both engines pay that memcpy.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/libsrtp_reference.h"
#include "dataplane/srtp/srtp_session.h"

namespace {

using namespace mrfp::srtp;  // a benchmark translation unit, not a header

constexpr Suite kSuites[] = {Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32, Suite::AesCm256HmacSha1_80,
                             Suite::AeadAes128Gcm, Suite::AeadAes256Gcm};
constexpr int kPayloads[] = {20, 80, 160, 1200};
constexpr int kBursts[] = {1, 8, 32, 64};
constexpr std::uint32_t kHeader = 12;
constexpr std::uint32_t kRoom = 64;

enum class EngineKind { IpsecMb, Libsrtp };

std::unique_ptr<SrtpProcessor> make_processor(EngineKind kind, IpsecMbEngine& engine) {
  if (kind == EngineKind::IpsecMb) return std::make_unique<SrtpSession>(engine);
  return std::make_unique<LibsrtpReference>();
}

MasterKey group_key(Suite suite) {
  std::mt19937 random(static_cast<std::uint32_t>(suite));
  MasterKey key;
  key.suite = suite;
  key.key_len = static_cast<std::uint8_t>(params(suite).master_key_len);
  key.salt_len = static_cast<std::uint8_t>(params(suite).master_salt_len);
  for (auto& b : key.key) b = static_cast<std::uint8_t>(random());
  for (auto& b : key.salt) b = static_cast<std::uint8_t>(random());
  return key;
}

void write_rtp_header(std::uint8_t* p, std::uint32_t ssrc, std::uint16_t sequence) {
  p[0] = 0x80;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(sequence >> 8);
  p[3] = static_cast<std::uint8_t>(sequence);
  std::memset(p + 4, 0x5a, 4);
  p[8] = static_cast<std::uint8_t>(ssrc >> 24);
  p[9] = static_cast<std::uint8_t>(ssrc >> 16);
  p[10] = static_cast<std::uint8_t>(ssrc >> 8);
  p[11] = static_cast<std::uint8_t>(ssrc);
}

struct Streams {
  Streams(EngineKind kind, Suite suite, int streams) : processor(make_processor(kind, engine)), stream_count(streams) {
    key = processor->add_master_key(group_key(suite)).handle;
    add_all();
  }
  void add_all() {
    for (int i = 0; i < stream_count; ++i) processor->add_stream(ssrc(i), {&key, 1});
  }
  void reset() {  // forget every replay window (the unprotect ring starts over)
    for (int i = 0; i < stream_count; ++i) processor->remove_stream(ssrc(i));
    add_all();
  }
  static std::uint32_t ssrc(int i) { return 0x10000000u + static_cast<std::uint32_t>(i) * 7919u; }

  IpsecMbEngine engine;
  std::unique_ptr<SrtpProcessor> processor;
  KeyHandle key = 0;
  int stream_count;
};

void bench_protect(benchmark::State& state, EngineKind kind, Suite suite, int payload, int burst) {
  Streams streams(kind, suite, burst);
  const std::uint32_t length = kHeader + static_cast<std::uint32_t>(payload);
  std::vector<std::uint8_t> storage(static_cast<std::size_t>(burst) * (length + kRoom), 0x33);
  std::vector<PacketView> views(static_cast<std::size_t>(burst));
  std::uint16_t sequence = 0;
  std::size_t failures = 0;
  for (auto _ : state) {
    for (int i = 0; i < burst; ++i) {
      std::uint8_t* data = storage.data() + static_cast<std::size_t>(i) * (length + kRoom);
      write_rtp_header(data, Streams::ssrc(i), sequence);
      views[static_cast<std::size_t>(i)] = PacketView{data, length, length + kRoom, PacketStatus::Ok};
    }
    ++sequence;
    streams.processor->protect(views);
    for (const PacketView& v : views) failures += v.status != PacketStatus::Ok;
    benchmark::ClobberMemory();
  }
  if (failures != 0) state.SkipWithError("protect failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * burst);
  state.counters["ns_per_pkt"] = benchmark::Counter(static_cast<double>(state.iterations()) * burst * 1e-9,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void bench_unprotect(benchmark::State& state, EngineKind kind, Suite suite, int payload, int burst) {
  // A ring of protected bursts (about 4096 packets), made by the same engine.
  Streams sender(kind, suite, burst);
  Streams receiver(kind, suite, burst);
  const std::uint32_t length = kHeader + static_cast<std::uint32_t>(payload);
  const std::uint32_t slot = length + kRoom;
  const int ring = std::max(16, 4096 / burst);
  std::vector<std::uint8_t> wire(static_cast<std::size_t>(ring) * burst * slot, 0x33);
  std::vector<std::uint32_t> wire_length(static_cast<std::size_t>(ring) * burst);
  std::vector<PacketView> views(static_cast<std::size_t>(burst));
  for (int round = 0; round < ring; ++round) {
    for (int i = 0; i < burst; ++i) {
      std::uint8_t* data = wire.data() + (static_cast<std::size_t>(round) * burst + i) * slot;
      write_rtp_header(data, Streams::ssrc(i), static_cast<std::uint16_t>(round));
      views[static_cast<std::size_t>(i)] = PacketView{data, length, slot, PacketStatus::Ok};
    }
    sender.processor->protect(views);
    for (int i = 0; i < burst; ++i) wire_length[static_cast<std::size_t>(round) * burst + i] = views[static_cast<std::size_t>(i)].length;
  }
  std::vector<std::uint8_t> work(static_cast<std::size_t>(burst) * slot);
  int round = 0;
  std::size_t failures = 0;
  for (auto _ : state) {
    if (round == ring) {
      state.PauseTiming();
      receiver.reset();
      round = 0;
      state.ResumeTiming();
    }
    for (int i = 0; i < burst; ++i) {
      const std::size_t at = static_cast<std::size_t>(round) * burst + i;
      std::uint8_t* data = work.data() + static_cast<std::size_t>(i) * slot;
      std::memcpy(data, wire.data() + at * slot, wire_length[at]);
      views[static_cast<std::size_t>(i)] = PacketView{data, wire_length[at], slot, PacketStatus::Ok};
    }
    ++round;
    receiver.processor->unprotect(views);
    for (const PacketView& v : views) failures += v.status != PacketStatus::Ok;
    benchmark::ClobberMemory();
  }
  if (failures != 0) state.SkipWithError("unprotect failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * burst);
  state.counters["ns_per_pkt"] = benchmark::Counter(static_cast<double>(state.iterations()) * burst * 1e-9,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

std::string bench_name(const char* op, EngineKind kind, Suite suite, int payload, int burst) {
  return std::string(op) + "/" + (kind == EngineKind::IpsecMb ? "ipsec-mb" : "libsrtp") + "/" + std::string(name(suite)) +
         "/payload:" + std::to_string(payload) + "/burst:" + std::to_string(burst);
}

// The console output, then one line per case: our ns/packet, libsrtp's, ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto counter = run.counters.find("ns_per_pkt");
      if (counter == run.counters.end() || run.error_occurred) continue;
      // The counter is already finalised: seconds per 1e-9 packets = ns per packet.
      std::string name = run.benchmark_name();
      name = name.substr(0, name.find("/min_time"));
      if (ns_per_packet_.emplace(name, counter->second.value).second) order_.push_back(name);
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nns per packet (CPU time); ratio = libsrtp / ipsec-mb\n%-58s %10s %10s %8s\n", "case (op/suite/payload/burst)", "ipsec-mb", "libsrtp", "ratio");
    for (const std::string& name : order_) {
      const double ours = ns_per_packet_[name];
      const auto split = name.find("/ipsec-mb/");
      if (split == std::string::npos) continue;
      const std::string reference = name.substr(0, split) + "/libsrtp/" + name.substr(split + 10);
      auto theirs = ns_per_packet_.find(reference);
      if (theirs == ns_per_packet_.end()) continue;
      const std::string label = name.substr(0, split) + "/" + name.substr(split + 10);
      std::printf("%-58s %8.1fns %8.1fns %7.2fx\n", label.c_str(), ours, theirs->second, theirs->second / ours);
    }
  }

 private:
  std::map<std::string, double> ns_per_packet_;
  std::vector<std::string> order_;
};

}  // namespace

int main(int argc, char** argv) {
  for (const char* op : {"protect", "unprotect"}) {
    for (Suite suite : kSuites) {
      for (int payload : kPayloads) {
        for (int burst : kBursts) {
          for (EngineKind kind : {EngineKind::IpsecMb, EngineKind::Libsrtp}) {
            const bool protect = std::string(op) == "protect";
            benchmark::RegisterBenchmark(bench_name(op, kind, suite, payload, burst).c_str(),
                                         [=](benchmark::State& state) {
                                           if (protect) bench_protect(state, kind, suite, payload, burst);
                                           else bench_unprotect(state, kind, suite, payload, burst);
                                         })
                ->MinTime(0.05);
          }
        }
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
