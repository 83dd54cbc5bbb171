// Cost of one conference tick (one frame time) against the number of
// participants and speakers, for G.711 and Opus, under both policies:
//
//   SharedStreams     decode the top-K speakers only (levels from the RFC 6464
//                     extension), encode one common stream + K mix-minus.
//   EveryParticipant  decode every sender, encode a mix-minus per listener
//                     (FreeSWITCH mod_conference, Janus AudioBridge).
//
// Each iteration pushes one packet per participant (not timed: that is the
// dataplane's cost) and times ConferenceMixer::tick() alone, in thread CPU time
// (the "Time" column; the "CPU" column also counts the untimed pushes). After the runs a
// summary prints, per configuration, µs per tick, how many participants one
// core carries at 20 ms frames, and the EveryParticipant/SharedStreams ratio.
// EveryParticipant with thousands of Opus participants takes seconds per tick
// and ~60 KB of codec state each, so it is measured up to 1,000 and its cost
// extrapolated linearly (it is linear in N: one decode and one encode each).
#include <benchmark/benchmark.h>
#include <time.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <numbers>
#include <string>
#include <tuple>
#include <vector>

#include "mixer/audio_level.h"
#include "mixer/codec.h"
#include "mixer/conference_mixer.h"

namespace mrfp::mixer {
namespace {

constexpr std::uint32_t kFrameMs = 20;
constexpr int kTalkFrames = 50;  // a second of each talker, cycled

struct Scenario {
  Codec codec;
  Policy policy;
  std::uint32_t participants;
  std::uint32_t max_speakers;  // K; this many participants talk
  bool extension;              // levels from RFC 6464 (else measured after decoding)
  std::uint32_t mix_rate_hz;   // 0: the conference's default (48 kHz with Opus)
  bool silent_send = true;     // non-talkers send silence; false: they are recvonly
};

// Encoded traffic, made once per codec and shared by every scenario.
struct Traffic {
  std::vector<std::vector<std::vector<std::uint8_t>>> talkers;  // [talker][frame]
  std::vector<std::uint8_t> silence;
  std::uint8_t talk_level = 127;
};

Traffic make_traffic(Codec codec, std::uint32_t talkers) {
  Traffic t;
  const std::uint32_t rate = native_pcm_rate(codec);
  auto encoder = make_encoder({codec, rate, kFrameMs, {}});
  std::vector<std::int16_t> pcm(samples_per_frame(rate, kFrameMs));
  std::array<std::uint8_t, kMaxEncodedFrameBytes> out{};
  for (std::uint32_t k = 0; k < talkers; ++k) {
    encoder->reset();
    const double step = 2.0 * std::numbers::pi * (300.0 + 170.0 * k) / rate;
    double phase = 0;
    std::vector<std::vector<std::uint8_t>> frames;
    for (int f = 0; f < kTalkFrames; ++f) {
      for (auto& s : pcm) {
        s = static_cast<std::int16_t>(6000 * std::sin(phase));
        phase += step;
      }
      t.talk_level = compute_audio_level(pcm);
      const EncodeResult r = encoder->encode(pcm, out);
      frames.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.bytes));
    }
    t.talkers.push_back(std::move(frames));
  }
  encoder->reset();
  std::fill(pcm.begin(), pcm.end(), 0);
  const EncodeResult r = encoder->encode(pcm, out);
  t.silence.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.bytes));
  return t;
}

class Conference {
 public:
  explicit Conference(const Scenario& s) : scenario_(s), traffic_(make_traffic(s.codec, std::max(s.max_speakers, 1u))) {
    ConferenceConfig config;
    config.max_participants = s.participants;
    config.codecs = {s.codec};
    config.frame_ms = kFrameMs;
    config.max_speakers = s.max_speakers;
    config.policy = s.policy;
    config.mix_rate_hz = s.mix_rate_hz;
    config.jitter_capacity_frames = 8;
    config.jitter_max_depth_frames = 4;
    mixer_ = ConferenceMixer::create(config);
    const std::uint8_t pt = s.codec == Codec::Opus ? 111 : s.codec == Codec::Pcma ? 8 : 0;
    const std::uint32_t talkers = std::max(s.max_speakers, 1u);
    for (std::uint32_t i = 0; i < s.participants; ++i) {
      const Direction direction = i < talkers || s.silent_send ? Direction::SendRecv : Direction::RecvOnly;
      handles_.push_back(mixer_->add_participant({s.codec, pt, direction}).handle);
    }
    ts_step_ = static_cast<std::uint32_t>(samples_per_frame(rtp_clock_rate(s.codec), kFrameMs));
  }

  void push_all() {
    const std::uint32_t talkers = std::max(scenario_.max_speakers, 1u);
    for (std::uint32_t i = 0; i < handles_.size(); ++i) {
      RtpPacketInfo p;
      p.sequence = sequence_;
      p.timestamp = timestamp_;
      p.arrival_time_us = now_us_;
      const bool talking = i < talkers;
      if (!talking && !scenario_.silent_send) break;  // recvonly listeners send nothing
      p.payload = talking ? std::span<const std::uint8_t>(traffic_.talkers[i][frame_ % kTalkFrames]) : traffic_.silence;
      if (scenario_.extension) p.audio_level = AudioLevel{talking ? traffic_.talk_level : std::uint8_t{127}, talking};
      mixer_->push(handles_[i], p);
    }
    ++sequence_;
    timestamp_ += ts_step_;
    now_us_ += kFrameMs * 1000;
    ++frame_;
  }

  std::size_t tick() { return mixer_->tick().size(); }
  const MixerStats& stats() const { return mixer_->stats(); }

 private:
  Scenario scenario_;
  Traffic traffic_;
  std::unique_ptr<ConferenceMixer> mixer_;
  std::vector<ParticipantHandle> handles_;
  std::uint16_t sequence_ = 1;
  std::uint32_t timestamp_ = 1000;
  std::uint32_t ts_step_ = 160;
  std::int64_t now_us_ = 1'000'000;
  int frame_ = 0;
};

// The tick's cost in CPU time of this thread: "µs of one core", unaffected by
// other processes sharing the machine (wall time would count their slices).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_ConferenceTick(benchmark::State& state) {
  const Scenario s{static_cast<Codec>(state.range(0)), static_cast<Policy>(state.range(1)),
                   static_cast<std::uint32_t>(state.range(2)), static_cast<std::uint32_t>(state.range(3)),
                   state.range(4) != 0, static_cast<std::uint32_t>(state.range(5)) * 1000};
  Conference conference(s);
  for (int i = 0; i < 10; ++i) {  // speakers selected, jitter buffers primed
    conference.push_all();
    conference.tick();
  }
  const auto decodes0 = conference.stats().decodes;
  const auto encodes0 = conference.stats().encodes;
  std::size_t frames = 0;
  for (auto _ : state) {
    conference.push_all();
    const double start = thread_cpu_seconds();
    frames = conference.tick();
    const double stop = thread_cpu_seconds();
    benchmark::DoNotOptimize(frames);
    state.SetIterationTime(stop - start);
  }
  const double ticks = static_cast<double>(state.iterations());
  state.counters["decodes/tick"] = static_cast<double>(conference.stats().decodes - decodes0) / ticks;
  state.counters["encodes/tick"] = static_cast<double>(conference.stats().encodes - encodes0) / ticks;
  state.counters["frames/tick"] = static_cast<double>(frames);
  state.SetLabel(std::string(name(s.codec)) + (s.policy == Policy::SharedStreams ? " shared" : " every") +
                 (s.extension ? " ext" : " no-ext") +
                 (s.mix_rate_hz ? " mix " + std::to_string(s.mix_rate_hz / 1000) + " kHz" : ""));
}

void scenarios(benchmark::internal::Benchmark* b) {
  for (Codec codec : {Codec::Pcmu, Codec::Opus}) {
    for (Policy policy : {Policy::SharedStreams, Policy::EveryParticipant}) {
      for (std::int64_t n : {10, 100, 1000, 10000}) {
        // EveryParticipant Opus beyond 1,000: extrapolated (see the summary).
        if (policy == Policy::EveryParticipant && codec == Codec::Opus && n > 1000) continue;
        b->Args({static_cast<std::int64_t>(codec), static_cast<std::int64_t>(policy), n, 3, 1, 0});
      }
      // Speakers: K = 1 and 8 at 1,000 participants.
      for (std::int64_t k : {1, 8}) {
        b->Args({static_cast<std::int64_t>(codec), static_cast<std::int64_t>(policy), 1000, k, 1, 0});
      }
    }
    // SharedStreams without the extension: every sender must be decoded to be ranked.
    for (std::int64_t n : {100, 1000}) {
      b->Args({static_cast<std::int64_t>(codec), static_cast<std::int64_t>(Policy::SharedStreams), n, 3, 0, 0});
    }
  }
  // A wideband (16 kHz) Opus conference: what the mix rate costs.
  for (Policy policy : {Policy::SharedStreams, Policy::EveryParticipant}) {
    for (std::int64_t n : {10, 10000}) {
      if (policy == Policy::EveryParticipant && n > 1000) continue;
      b->Args({static_cast<std::int64_t>(Codec::Opus), static_cast<std::int64_t>(policy), n, 3, 1, 16});
    }
  }
}

BENCHMARK(BM_ConferenceTick)
    ->ArgNames({"codec", "policy", "participants", "K", "ext", "mix_khz"})
    ->Apply(scenarios)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// A webinar: K talkers, everybody else recvonly (no packets, empty jitter
// buffers). Shows the mixer's own per-listener cost without the jitter
// buffers' per-packet work. SharedStreams only; not in the summary.
void BM_WebinarTick(benchmark::State& state) {
  Scenario s{static_cast<Codec>(state.range(0)), Policy::SharedStreams, static_cast<std::uint32_t>(state.range(1)),
             3, true, 0, false};
  Conference conference(s);
  for (int i = 0; i < 10; ++i) {
    conference.push_all();
    conference.tick();
  }
  for (auto _ : state) {
    conference.push_all();
    const double start = thread_cpu_seconds();
    benchmark::DoNotOptimize(conference.tick());
    state.SetIterationTime(thread_cpu_seconds() - start);
  }
  state.SetLabel(std::string(name(s.codec)) + " shared, listeners recvonly");
}
BENCHMARK(BM_WebinarTick)
    ->ArgNames({"codec", "participants"})
    ->ArgsProduct({{static_cast<std::int64_t>(Codec::Pcmu), static_cast<std::int64_t>(Codec::Opus)}, {1000, 10000}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// Collects each run's time per tick for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Plain text with counters in columns: the output is meant to be quoted.
  SummaryReporter() : ConsoleReporter(OO_Tabular) {}
  using Key = std::tuple<int, std::int64_t, std::int64_t, int, std::int64_t>;  // codec, N, K, ext, mix kHz
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      if (run.run_name.function_name != "BM_ConferenceTick") continue;
      // run_name.args reads "codec:X/policy:Y/participants:N/K:K/ext:E/mix_khz:R".
      std::array<std::int64_t, 6> args{};
      const std::string& args_text = run.run_name.args;
      std::size_t i = 0;
      std::size_t at = 0;
      while (i < args.size() && at < args_text.size()) {
        const std::size_t colon = args_text.find(':', at);
        if (colon == std::string::npos) break;
        args[i++] = std::stoll(args_text.substr(colon + 1));
        at = args_text.find('/', colon);
        if (at == std::string::npos) break;
      }
      const double us = run.GetAdjustedRealTime();  // in the benchmark's unit: µs
      results[{static_cast<int>(args[0]), args[2], args[3], static_cast<int>(args[4]), args[5]}][args[1]] = us;
    }
  }
  std::map<Key, std::map<std::int64_t, double>> results;  // key -> policy -> µs/tick
};

void print_summary(const SummaryReporter& r) {
  constexpr double kFrameUs = kFrameMs * 1000.0;
  const auto shared = static_cast<std::int64_t>(Policy::SharedStreams);
  const auto every = static_cast<std::int64_t>(Policy::EveryParticipant);
  std::printf("\nSummary: one tick = %u ms of audio; 'per core' = participants one core carries in real time\n", kFrameMs);
  std::printf("%-5s %6s %2s %4s %4s | %12s %12s | %12s %12s | %8s\n", "codec", "N", "K", "ext", "mix", "shared us", "every us",
              "shared/core", "every/core", "ratio");
  for (const auto& [key, by_policy] : r.results) {
    const auto [codec, n, k, ext, khz] = key;
    const std::string mix = khz ? std::to_string(khz) + "k" : "def";
    const auto s = by_policy.find(shared);
    if (s == by_policy.end()) continue;
    double every_us = -1;
    bool extrapolated = false;
    // EveryParticipant decodes everyone whether or not the extension is
    // there: its figure measured with the extension serves both rows.
    const auto with_extension = r.results.find({codec, n, k, 1, khz});
    const auto& every_runs = with_extension != r.results.end() ? with_extension->second : by_policy;
    if (const auto e = every_runs.find(every); e != every_runs.end()) {
      every_us = e->second;
    } else {
      // Linear extrapolation from the largest measured N with the same codec and K.
      for (const auto& [other, other_policy] : r.results) {
        const auto [oc, on, ok, oe, ohz] = other;
        const auto oe_it = other_policy.find(every);
        if (oc == codec && ok == k && oe == 1 && ohz == khz && on < n && oe_it != other_policy.end()) {
          every_us = oe_it->second * static_cast<double>(n) / static_cast<double>(on);
          extrapolated = true;
        }
      }
    }
    const double shared_core = static_cast<double>(n) * kFrameUs / s->second;
    if (every_us > 0) {
      const double every_core = static_cast<double>(n) * kFrameUs / every_us;
      std::printf("%-5s %6lld %2lld %4s %4s | %12.1f %11.1f%s | %12.0f %12.0f | %7.1fx\n",
                  std::string(name(static_cast<Codec>(codec))).c_str(), static_cast<long long>(n),
                  static_cast<long long>(k), ext ? "yes" : "no", mix.c_str(), s->second, every_us, extrapolated ? "*" : " ",
                  shared_core, every_core, every_us / s->second);
    } else {
      std::printf("%-5s %6lld %2lld %4s %4s | %12.1f %12s | %12.0f %12s | %8s\n",
                  std::string(name(static_cast<Codec>(codec))).c_str(), static_cast<long long>(n),
                  static_cast<long long>(k), ext ? "yes" : "no", mix.c_str(), s->second, "-", shared_core, "-", "-");
    }
  }
  std::printf("* extrapolated linearly from the largest measured N (EveryParticipant is linear in N)\n");
  std::printf("ratio = EveryParticipant us per tick / SharedStreams us per tick at the same N: how many times more\n"
              "participants one core carries with SharedStreams.\n");
}

}  // namespace
}  // namespace mrfp::mixer

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mrfp::mixer::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  mrfp::mixer::print_summary(reporter);
  benchmark::Shutdown();
  return 0;
}
