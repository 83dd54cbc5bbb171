// ns per packet through the DPDK cryptodev engine (queue pair and CPU crypto
// paths) next to the IPsec-MB engine,
// in the same run: engine.run() over a burst of prepared jobs (the engine
// alone), and SrtpSession::protect() over a burst (the protocol layer on top),
// for AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, 160-byte payloads,
// bursts 1/8/32/64.
//
// Run: build-*/bench/cryptodev/cryptodev_bench [benchmark flags] [--eal EAL args...]
// Default EAL: --in-memory if 2 MB hugepages are free, else --no-huge -m 256;
// always --no-pci --no-shconf --no-telemetry -l 0 --vdev crypto_aesni_mb0.
#include <benchmark/benchmark.h>
#include <rte_cryptodev.h>
#include <rte_eal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/cryptodev/cryptodev_engine.h"
#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"
#include "tests/cryptodev/srtp_jobs.h"

namespace mrfp::srtp::bench {
namespace {

constexpr std::size_t kPayload = 160;  // 20 ms of G.711
constexpr std::size_t kHeader = 12;
constexpr std::size_t kRoom = 64;
std::uint8_t g_cryptodev_id = 0;

enum class EngineKind { CryptodevQueuePair, CryptodevCpuCrypto, IpsecMb };

std::unique_ptr<CryptoEngine> make_engine(EngineKind kind) {
  if (kind == EngineKind::IpsecMb) return std::make_unique<IpsecMbEngine>();
  CryptodevEngineOptions options;
  options.path = kind == EngineKind::CryptodevQueuePair ? CryptodevPath::QueuePair : CryptodevPath::CpuCrypto;
  std::string error;
  auto engine = CryptodevEngine::create(g_cryptodev_id, 0, options, error);
  if (!engine) std::fprintf(stderr, "cryptodev engine: %s\n", error.c_str());
  return engine;
}

MasterKey random_master(Suite suite, std::mt19937& random) {
  MasterKey master;
  master.suite = suite;
  master.key_len = static_cast<std::uint8_t>(params(suite).master_key_len);
  master.salt_len = static_cast<std::uint8_t>(params(suite).master_salt_len);
  for (std::size_t b = 0; b < master.key_len; ++b) master.key[b] = static_cast<std::uint8_t>(random());
  for (std::size_t b = 0; b < master.salt_len; ++b) master.salt[b] = static_cast<std::uint8_t>(random());
  return master;
}

std::vector<std::uint8_t> rtp_packet(std::uint32_t ssrc, std::uint16_t sequence, std::mt19937& random) {
  std::vector<std::uint8_t> packet(kHeader + kPayload + kRoom);
  for (auto& byte : packet) byte = static_cast<std::uint8_t>(random());
  packet[0] = 0x80;
  packet[1] = 0;
  packet[2] = static_cast<std::uint8_t>(sequence >> 8);
  packet[3] = static_cast<std::uint8_t>(sequence);
  test::put_be32(packet.data() + 8, ssrc);
  return packet;
}

void set_counters(benchmark::State& state, std::size_t burst) {
  const auto packets = static_cast<double>(state.iterations() * burst);
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
  state.counters["ns/pkt"] = benchmark::Counter(packets > 0 ? packets : 1,
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The engine alone: protect jobs for `burst` packets of different SSRCs,
// prepared once, run again and again (AES-CTR in place just toggles).
void engine_protect(benchmark::State& state, EngineKind kind, Suite suite) {
  const auto burst = static_cast<std::size_t>(state.range(0));
  std::mt19937 random(1);
  auto kdf = make_engine(EngineKind::CryptodevCpuCrypto);
  auto engine = make_engine(kind);
  if (!kdf || !engine) {
    state.SkipWithError("engine creation failed");
    return;
  }
  test::StreamKeys keys = test::derive_session_keys(*kdf, *engine, random_master(suite, random));
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<CryptoJob> jobs;
  packets.reserve(burst);
  for (std::size_t i = 0; i < burst; ++i) {
    packets.push_back(rtp_packet(static_cast<std::uint32_t>(0x1000 + i), static_cast<std::uint16_t>(i), random));
    jobs.push_back(test::rtp_job(keys.rtp, packets.back(), kHeader + kPayload, 0, CryptoDirection::Encrypt).job);
  }
  for (auto _ : state) {
    engine->run(jobs);
    benchmark::DoNotOptimize(jobs.data());
    benchmark::ClobberMemory();
  }
  for (const CryptoJob& job : jobs) {
    if (job.engine_failed) state.SkipWithError("engine_failed");
  }
  set_counters(state, burst);
  engine->release(keys.rtp.engine_state);
  engine->release(keys.rtcp.engine_state);
}

// The protocol layer on the engine: SrtpSession::protect over `burst` packets
// of `burst` streams; every iteration restores the plain packets first (a
// 172-byte copy per packet, the same for both engines).
void session_protect(benchmark::State& state, EngineKind kind, Suite suite) {
  const auto burst = static_cast<std::size_t>(state.range(0));
  std::mt19937 random(2);
  auto engine = make_engine(kind);
  if (!engine) {
    state.SkipWithError("engine creation failed");
    return;
  }
  SrtpSession session(*engine);
  const KeyResult key = session.add_master_key(random_master(suite, random));
  if (key.status != SetupStatus::Ok) {
    state.SkipWithError("add_master_key failed");
    return;
  }
  std::vector<std::vector<std::uint8_t>> plain, packets;
  for (std::size_t i = 0; i < burst; ++i) {
    const auto ssrc = static_cast<std::uint32_t>(0x2000 + i);
    session.add_stream(ssrc, {&key.handle, 1});
    plain.push_back(rtp_packet(ssrc, static_cast<std::uint16_t>(i), random));
  }
  packets = plain;
  std::vector<PacketView> views(burst);
  std::uint16_t sequence = 0;
  for (auto _ : state) {
    ++sequence;
    for (std::size_t i = 0; i < burst; ++i) {
      std::memcpy(packets[i].data(), plain[i].data(), kHeader + kPayload);
      packets[i][2] = static_cast<std::uint8_t>(sequence >> 8);
      packets[i][3] = static_cast<std::uint8_t>(sequence);
      views[i] = PacketView{packets[i].data(), static_cast<std::uint32_t>(kHeader + kPayload),
                            static_cast<std::uint32_t>(packets[i].size()), PacketStatus::Ok};
    }
    session.protect(views);
    benchmark::DoNotOptimize(views.data());
  }
  for (const PacketView& view : views) {
    if (view.status != PacketStatus::Ok) state.SkipWithError("protect failed");
  }
  set_counters(state, burst);
}

void register_all() {
  struct Named {
    const char* name;
    EngineKind kind;
  };
  for (Suite suite : {Suite::AesCm128HmacSha1_80, Suite::AeadAes128Gcm}) {
    for (const Named engine : {Named{"cryptodev_qp", EngineKind::CryptodevQueuePair},
                               Named{"cryptodev_cpu", EngineKind::CryptodevCpuCrypto},
                               Named{"ipsec_mb", EngineKind::IpsecMb}}) {
      const std::string suite_name(name(suite));
      benchmark::RegisterBenchmark(("engine/" + suite_name + "/" + engine.name).c_str(),
                                   [kind = engine.kind, suite](benchmark::State& state) {
                                     engine_protect(state, kind, suite);
                                   })
          ->Arg(1)->Arg(8)->Arg(32)->Arg(64)->ArgName("burst");
      benchmark::RegisterBenchmark(("session_protect/" + suite_name + "/" + engine.name).c_str(),
                                   [kind = engine.kind, suite](benchmark::State& state) {
                                     session_protect(state, kind, suite);
                                   })
          ->Arg(1)->Arg(8)->Arg(32)->Arg(64)->ArgName("burst");
    }
  }
}

bool free_hugepages() {
  std::ifstream free_pages("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  int count = 0;
  return free_pages >> count && count >= 64;
}

}  // namespace
}  // namespace mrfp::srtp::bench

int main(int argc, char** argv) {
  // Split: benchmark flags first, EAL arguments after "--eal".
  std::vector<char*> benchmark_args;
  std::vector<std::string> eal_args{"cryptodev_bench"};
  bool in_eal = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--eal") == 0) {
      in_eal = true;
    } else if (in_eal) {
      eal_args.emplace_back(argv[i]);
    } else {
      benchmark_args.push_back(argv[i]);
    }
  }
  if (eal_args.size() == 1) {
    if (mrfp::srtp::bench::free_hugepages()) {
      eal_args.insert(eal_args.end(), {"--in-memory"});
    } else {
      eal_args.insert(eal_args.end(), {"--no-huge", "-m", "256"});
    }
    eal_args.insert(eal_args.end(), {"--no-pci", "--no-shconf", "--no-telemetry", "-l", "0", "--vdev",
                                     "crypto_aesni_mb0", "--log-level", "*:warning"});
  }
  std::vector<char*> eal_argv;
  for (std::string& arg : eal_args) eal_argv.push_back(arg.data());
  std::fprintf(stderr, "EAL:");
  for (const std::string& arg : eal_args) std::fprintf(stderr, " %s", arg.c_str());
  std::fprintf(stderr, "\n");
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  if (rte_cryptodev_count() == 0) {
    std::fprintf(stderr, "no cryptodev probed (pass --eal ... --vdev crypto_aesni_mb0)\n");
    return 1;
  }
  mrfp::srtp::bench::g_cryptodev_id = 0;
  if (const std::string error = mrfp::srtp::configure_cryptodev(0, 1); !error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "cryptodev: %s\n", rte_cryptodev_name_get(0));
  int benchmark_argc = static_cast<int>(benchmark_args.size());
  benchmark::Initialize(&benchmark_argc, benchmark_args.data());
  mrfp::srtp::bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
