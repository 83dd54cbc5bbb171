#include "bench/loadgen/load_run.h"

#include "control/enum_conversion.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "bench/loadgen/io_loop.h"
#include "bench/loadgen/listener_monitor.h"
#include "bench/loadgen/memif_transport.h"
#include "bench/loadgen/mp_client.h"
#include "bench/loadgen/pacer.h"
#include "bench/loadgen/socket_transport.h"
#include "bench/peer/paced_sender.h"
#include "bench/peer/sim_audio.h"
#include "bench/peer/sim_participant.h"

namespace mrfp::loadgen {

namespace {

// Tone power (sim::tone_power: a full-scale sine gives 0.5). A talker at
// amplitude 0.25 gives about 0.03; these leave room for the mixer's gain.
constexpr double kFramePresent = 0.004;   // a 20 ms frame "has" the tone
constexpr double kWindowPresent = 0.004;  // a talk-spurt's audio has it
constexpr double kWindowAbsent = 0.001;   // ... or surely does not
constexpr std::int64_t kOnsetSearchNs = 1'000'000'000;
constexpr std::uint32_t kFirstSsrc = 0x10000000;

struct Onset {
  std::uint32_t participant;
  std::uint32_t window;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::uint8_t payload_type_of(mixer::Codec codec) {
  switch (codec) {
    case mixer::Codec::Pcmu: return 0;
    case mixer::Codec::Pcma: return 8;
    case mixer::Codec::Opus: return 111;
  }
  return 0;
}

// Fields of /proc/<pid>/stat (proc(5)), numbered from 1; empty if the process is gone.
std::vector<unsigned long long> process_stat_fields(int pid, int last_field) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto after_name = text.rfind(')');  // the command name may hold spaces
  if (after_name == std::string::npos) return {};
  std::istringstream fields(text.substr(after_name + 2));
  std::vector<unsigned long long> values(static_cast<std::size_t>(last_field) + 1, 0);
  std::string field;
  for (int index = 3; index <= last_field && fields >> field; ++index) {
    if (index != 3) values[static_cast<std::size_t>(index)] = std::strtoull(field.c_str(), nullptr, 10);
  }
  return values;
}

// utime + stime of a process, in seconds (proc(5): fields 14 and 15).
double process_cpu_seconds(int pid) {
  const auto fields = process_stat_fields(pid, 15);
  if (fields.empty()) return -1;
  return static_cast<double>(fields[14] + fields[15]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Major page faults of a process (proc(5): field 12): each one waited for a
// page to be read back from disk, a stall of milliseconds on the packet path.
long long process_major_faults(int pid) {
  const auto fields = process_stat_fields(pid, 12);
  return fields.empty() ? -1 : static_cast<long long>(fields[12]);
}

// Time a hypervisor ran something else while this machine's CPUs had work,
// summed over the CPUs, in seconds (proc(5): /proc/stat "cpu" line, field 8,
// steal). In a virtual machine it stalls mrfpd and the load generator alike.
double machine_steal_seconds() {
  std::ifstream stat("/proc/stat");
  std::string label;
  unsigned long long value = 0, steal = 0;
  if (!(stat >> label) || label != "cpu") return 0;
  for (int field = 1; field <= 8 && stat >> value; ++field) {
    if (field == 8) steal = value;
  }
  return static_cast<double>(steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// How long a thread was runnable but not running (the scheduler's run delay,
// schedstat field 2), and how often something preempted it. A stall of the
// thread that these do not show happened below the guest's scheduler: the
// hypervisor, or the kernel with the CPU held.
struct ThreadWaits {
  double run_delay_ms = 0;
  long long involuntary_switches = 0;
  ThreadWaits& operator+=(const ThreadWaits& other) {
    run_delay_ms += other.run_delay_ms;
    involuntary_switches += other.involuntary_switches;
    return *this;
  }
};

// `task`: /proc/thread-self, or /proc/<pid>/task/<tid>.
ThreadWaits thread_waits(const std::string& task) {
  ThreadWaits waits;
  std::ifstream schedstat(task + "/schedstat");
  unsigned long long on_cpu_ns = 0, waiting_ns = 0;
  if (schedstat >> on_cpu_ns >> waiting_ns) waits.run_delay_ms = static_cast<double>(waiting_ns) / 1e6;
  std::ifstream status(task + "/status");
  constexpr std::string_view kKey = "nonvoluntary_ctxt_switches:";
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(kKey)) waits.involuntary_switches = std::atoll(line.c_str() + kKey.size());
  }
  return waits;
}

ThreadWaits this_thread_waits() { return thread_waits("/proc/thread-self"); }

// mrfpd's worker threads (named mrfp-worker-N), summed; nullopt when it has none.
std::optional<ThreadWaits> mrfpd_worker_waits(int pid) {
  std::optional<ThreadWaits> total;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || !name.starts_with("mrfp-worker")) continue;
    if (!total) total.emplace();
    *total += thread_waits(task.path().string());
  }
  return total;
}

void add_counters(MixerCounters& total, const mp::v1::Counters& c) {
  total.rx_packets += c.rx_packets();
  total.tx_packets += c.tx_packets();
  total.drops += c.drop_malformed() + c.drop_unknown_port() + c.drop_ssrc_mismatch() + c.drop_source_mismatch() +
                 c.drop_auth_failed() + c.drop_replayed() + c.drop_too_old() + c.drop_unknown_mki() +
                 c.drop_key_expired() + c.drop_not_sending();
  total.drop_auth_failed += c.drop_auth_failed();
  total.jitter_lost += c.jitter_lost();
  total.jitter_late += c.jitter_late();
  total.concealed += c.concealed();
  total.ticks += c.ticks();
  total.tick_overruns += c.tick_overruns();
  total.tx_dropped += c.tx_dropped();
}

MixerCounters mixer_counters(const mp::v1::GetStatsResponse& stats, const std::set<std::uint32_t>& ours) {
  MixerCounters total;
  for (const auto& conference : stats.conferences()) {
    if (!ours.count(conference.conference_id())) continue;
    add_counters(total, conference.counters());
    for (const auto& participant : conference.participants()) {
      total.max_jitter_buffer_ms = std::max(total.max_jitter_buffer_ms, participant.jitter_buffer_ms());
    }
  }
  for (const auto& worker : stats.workers()) {
    total.worker_loads.push_back(worker.load());
    total.worker_receive_gaps_over_frame += worker.receive_gaps_over_frame();
    total.worker_longest_receive_gap_ms = std::max(total.worker_longest_receive_gap_ms, worker.longest_receive_gap_ms());
    const auto refused = worker.io_counters().find("tx_refused");
    if (refused != worker.io_counters().end()) total.io_tx_refused += refused->second;
  }
  return total;
}

std::vector<srtp::MasterKey> make_group_keys(const LoadOptions& options) {
  std::vector<srtp::MasterKey> keys;
  for (std::uint32_t c = 0; c < options.conferences; ++c) {
    keys.push_back(sim::make_key(options.suite, options.seed * 1'000'003 + c));
  }
  return keys;
}

// Creates the conferences and participants; fills, per participant, the mixer
// port it must send to.
void set_up(MpClient& client, const LoadPlan& plan, const Transport& transport,
            const std::vector<srtp::MasterKey>& group_keys, std::vector<std::uint32_t>& conference_ids,
            std::vector<sockaddr_in>& destinations) {
  const LoadOptions& options = plan.options();
  conference_ids.resize(options.conferences);
  destinations.resize(plan.participant_count());
  std::mutex error_mutex;
  std::string first_error;
  // The dataplane answers each command between bursts: several calls in
  // flight keep the set-up of thousands of participants to seconds, also in
  // one large conference (conferences first, then participants in any order).
  auto in_parallel = [&](std::uint32_t count, auto&& work) {
    std::atomic<std::uint32_t> next{0};
    auto loop = [&] {
      try {
        for (std::uint32_t i; (i = next.fetch_add(1)) < count;) work(i);
      } catch (const std::exception& error) {
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = error.what();
        next = count;
      }
    };
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < std::min<std::uint32_t>(8, count); ++t) threads.emplace_back(loop);
    for (auto& thread : threads) thread.join();
  };
  in_parallel(options.conferences, [&](std::uint32_t c) {
    mp::v1::CreateConferenceRequest create;
    create.add_codecs(control::to_proto(options.codec));
    create.set_frame_ms(options.frame_ms);
    create.set_speakers(options.speakers);
    *create.mutable_group_key() = to_proto(group_keys[c]);
    create.set_policy(options.every_participant_policy ? mp::v1::EVERY_PARTICIPANT : mp::v1::SHARED_STREAMS);
    conference_ids[c] = client.create_conference(create).conference_id();
  });
  if (!first_error.empty()) throw std::runtime_error(first_error);
  in_parallel(plan.participant_count(), [&](std::uint32_t p) {
    mp::v1::AddParticipantRequest add;
    add.set_conference_id(conference_ids[plan.conference_of(p)]);
    add.set_codec(control::to_proto(options.codec));
    add.set_payload_type(payload_type_of(options.codec));
    char host[INET_ADDRSTRLEN];
    const in_addr address = transport.participant_address(p);
    inet_ntop(AF_INET, &address, host, sizeof host);
    add.mutable_remote()->set_host(host);
    add.mutable_remote()->set_port(transport.participant_port());
    add.set_ssrc(kFirstSsrc + p);
    add.set_direction(mp::v1::SENDRECV);
    add.set_audio_level_ext_id(options.levels ? 1 : 0);
    const auto added = client.add_participant(add);
    sockaddr_in& destination = destinations[p];
    destination = {};
    destination.sin_family = AF_INET;
    destination.sin_port = htons(static_cast<std::uint16_t>(added.local().port()));
    if (inet_pton(AF_INET, added.local().host().c_str(), &destination.sin_addr) != 1) {
      throw std::runtime_error("mrfpd gave a non-IPv4 media address: " + added.local().host());
    }
  });
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

// Runs `work(i)` for i in [0, count) on every core; rethrows the first failure.
template <class Work>
void parallel_for(std::uint32_t count, Work work) {
  std::atomic<std::uint32_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  std::vector<std::thread> threads;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < cores; ++t) {
    threads.emplace_back([&] {
      try {
        for (std::uint32_t i; (i = next.fetch_add(1)) < count;) work(i);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = count;  // the others stop at their next item
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

// Every participant's packets for the whole run. The audio of member m is the
// same in every conference (same tone, same turns), so a SimParticipant per
// member encodes it once (Opus at scale would otherwise take minutes); its
// packets are unprotected back to plain RTP, and each participant's copy gets
// its own SSRC, sequence and timestamp base and is protected by libsrtp2
// under its conference's group key.
std::vector<PacketTrack> precompute(const LoadPlan& plan, const std::vector<srtp::MasterKey>& group_keys,
                                   double& encoder_delay_ms) {
  const LoadOptions& options = plan.options();
  const std::uint32_t members = plan.conference_size();
  // Members who never talk in this run send the same silence: their packets
  // differ only in SSRC, sequence and timestamp, which are rewritten per
  // participant below, so the first of them is encoded for all (in a
  // conference of 10,000 with 3 talkers, about 20 encodes instead of 10,000).
  std::vector<std::uint32_t> source(members), encoded;
  std::uint32_t silent_source = UINT32_MAX;
  for (std::uint32_t m = 0; m < members; ++m) {
    if (plan.ever_talks(m)) {
      source[m] = m;
    } else {
      if (silent_source == UINT32_MAX) silent_source = m;
      source[m] = silent_source;
    }
    if (source[m] == m) encoded.push_back(m);
  }
  std::vector<PacketTrack> plain(members);
  parallel_for(static_cast<std::uint32_t>(encoded.size()), [&](std::uint32_t e) {
    const std::uint32_t m = encoded[e];
    const auto& key = group_keys[0];
    sim::ParticipantConfig config{.codec = options.codec, .payload_type = payload_type_of(options.codec),
                                  .ssrc = kFirstSsrc + m, .tone_hz = plan.tone_hz(m),
                                  .amplitude = options.amplitude, .frame_ms = options.frame_ms,
                                  .level_ext_id = static_cast<std::uint8_t>(options.levels ? 1 : 0),
                                  .send_key = key, .receive_key = key};
    sim::SimParticipant encoder(config);
    if (e == 0) encoder_delay_ms = encoder.encoder_delay_ms();  // the same for every member
    sim::LibsrtpSession unprotector(key, sim::LibsrtpSession::Direction::Inbound, config.ssrc);
    for (std::uint32_t f = 0; f < plan.frames(); ++f) {
      auto packet = encoder.make_packet(plan.talking(m, f));
      const int length = unprotector.unprotect(packet.data(), static_cast<int>(packet.size()));
      if (length < 12) throw std::runtime_error("libsrtp2 could not unprotect its own packet");
      plain[m].append({packet.data(), static_cast<std::size_t>(length)});
    }
  });

  std::vector<PacketTrack> tracks(plan.participant_count());
  parallel_for(plan.participant_count(), [&](std::uint32_t p) {
    const std::uint32_t ssrc = kFirstSsrc + p;
    sim::LibsrtpSession protector(group_keys[plan.conference_of(p)], sim::LibsrtpSession::Direction::Outbound, ssrc);
    // Distinct starting points per participant, as real endpoints pick at random (RFC 3550 §5.1).
    std::mt19937 random(ssrc);
    const auto first_sequence = static_cast<std::uint16_t>(random());
    const std::uint32_t first_timestamp = static_cast<std::uint32_t>(random());
    const PacketTrack& source_track = plain[source[plan.member_of(p)]];
    PacketTrack& track = tracks[p];
    track.bytes.reserve(source_track.bytes.size() + std::size_t{plan.frames()} * (SRTP_MAX_TRAILER_LEN + 4));
    track.offsets.reserve(plan.frames() + 1);
    std::vector<std::uint8_t> buffer;
    const std::uint32_t first_frame = plan.first_frame(p);
    for (std::uint32_t f = 0; f < plan.frames(); ++f) {
      if (f < first_frame) {
        track.append({});  // not sent: the participant has not joined yet
        continue;
      }
      const auto packet = source_track.packet(f);
      buffer.assign(packet.begin(), packet.end());
      buffer.resize(packet.size() + SRTP_MAX_TRAILER_LEN);
      const auto sequence = static_cast<std::uint16_t>(first_sequence + f);
      const std::uint32_t timestamp = first_timestamp + f * plan.rtp_ticks_per_frame();
      const std::uint8_t header[10] = {static_cast<std::uint8_t>(sequence >> 8), static_cast<std::uint8_t>(sequence),
                                       static_cast<std::uint8_t>(timestamp >> 24), static_cast<std::uint8_t>(timestamp >> 16),
                                       static_cast<std::uint8_t>(timestamp >> 8), static_cast<std::uint8_t>(timestamp),
                                       static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
                                       static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc)};
      std::copy(std::begin(header), std::end(header), buffer.begin() + 2);
      const int length = protector.protect(buffer.data(), static_cast<int>(packet.size()));
      if (length < 0) throw std::runtime_error("libsrtp2 protect failed");
      track.append({buffer.data(), static_cast<std::size_t>(length)});
    }
  });
  return tracks;
}

// When each packet leaves, with the impairments asked for; marks each talker's
// first packet of a talk-spurt, whose send time starts a latency measurement.
std::vector<ScheduledSend> make_schedule(const LoadPlan& plan, std::vector<Onset>& onsets) {
  const LoadOptions& options = plan.options();
  const std::int64_t frame_ns = std::int64_t{options.frame_ms} * 1'000'000;
  std::mt19937_64 random(options.seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<ScheduledSend> schedule;
  schedule.reserve(std::size_t{plan.frames()} * plan.participant_count());
  std::vector<std::int64_t> offsets(plan.frames());
  for (std::uint32_t p = 0; p < plan.participant_count(); ++p) {
    const std::uint32_t member = plan.member_of(p);
    const auto phase = options.same_phase ? 0 : static_cast<std::int64_t>(unit(random) * static_cast<double>(frame_ns));
    for (std::uint32_t f = 0; f < plan.frames(); ++f) {
      offsets[f] = phase + f * frame_ns + static_cast<std::int64_t>(unit(random) * options.jitter_ms * 1e6);
    }
    for (std::uint32_t f = 0; f + 1 < plan.frames(); ++f) {
      if (unit(random) * 100 < options.reorder_percent) std::swap(offsets[f], offsets[f + 1]);
    }
    for (std::uint32_t f = plan.first_frame(p); f < plan.frames(); ++f) {
      const bool onset = plan.talking(member, f) && (f == 0 || !plan.talking(member, f - 1));
      ScheduledSend send{offsets[f], p, f, kNoMark};
      if (onset) {
        send.mark = static_cast<std::uint32_t>(onsets.size());
        onsets.push_back({p, (f - plan.warmup_frames()) / plan.frames_per_spurt()});
      } else if (unit(random) * 100 < options.loss_percent) {
        continue;  // an onset is never lost: it starts a latency measurement
      }
      schedule.push_back(send);
    }
  }
  std::stable_sort(schedule.begin(), schedule.end(),
                   [](const ScheduledSend& a, const ScheduledSend& b) { return a.offset_ns < b.offset_ns; });
  return schedule;
}

double frame_tone_power(const ListenerRecord& listener, std::size_t slot, std::size_t samples, double hz,
                        double rate) {
  return sim::tone_power({listener.audio.data() + slot * samples, samples}, hz, rate);
}

// Latency of every onset heard by this listener, and the tones it heard in each talk-spurt.
void analyse_sampled(const LoadPlan& plan, const ListenerRecord& record, std::uint32_t participant,
                     const std::vector<Onset>& onsets, const std::vector<std::int64_t>& onset_sent_ns,
                     std::int64_t start_ns, double encoder_delay_ms, ListenerResult& result) {
  const std::size_t samples = plan.samples_per_frame();
  const double rate = mixer::native_pcm_rate(plan.options().codec);
  const std::uint32_t conference = plan.conference_of(participant);
  const std::uint32_t member = plan.member_of(participant);
  const std::size_t slots = record.arrival_ns.size();

  for (std::size_t o = 0; o < onsets.size(); ++o) {
    const Onset& onset = onsets[o];
    if (plan.conference_of(onset.participant) != conference || !plan.audible_to(plan.member_of(onset.participant), member, onset.window)) {
      continue;
    }
    const std::int64_t sent = onset_sent_ns[o];
    if (sent == 0) continue;
    const double hz = plan.tone_hz(plan.member_of(onset.participant));
    std::size_t first_after = 0, last_before = slots;
    for (std::size_t s = 0; s < slots; ++s) {
      if (record.arrival_ns[s] == 0) continue;
      if (record.arrival_ns[s] < sent) {
        last_before = s;
      } else {
        first_after = s;
        break;
      }
    }
    // Already audible before the onset (a neighbouring tone leaking, or the
    // talker never stopped): no clean edge to time.
    if (last_before < slots && frame_tone_power(record, last_before, samples, hz, rate) >= kFramePresent) {
      ++result.onsets_unmeasured;
      continue;
    }
    bool found = false;
    for (std::size_t s = first_after; s < slots && first_after != 0; ++s) {
      if (record.arrival_ns[s] == 0) continue;
      if (record.arrival_ns[s] - sent > kOnsetSearchNs) break;
      if (frame_tone_power(record, s, samples, hz, rate) >= kFramePresent) {
        // Our own encoder's lookahead delays the tone in what we sent: not the mixer's.
        result.latencies_ms.push_back(static_cast<double>(record.arrival_ns[s] - sent) / 1e6 - encoder_delay_ms);
        found = true;
        break;
      }
    }
    if (!found) ++result.onsets_missed;
  }

  std::set<double> heard, missing, unexpected;
  std::vector<std::uint32_t> talkers;
  const std::int64_t frame_ns = std::int64_t{plan.options().frame_ms} * 1'000'000;
  const std::int64_t settle_ns =
      std::min<std::int64_t>(500'000'000, std::int64_t{plan.frames_per_spurt()} * frame_ns / 3);
  for (std::uint32_t w = 0; w < plan.windows(); ++w) {
    const std::int64_t from = start_ns + std::int64_t{plan.window_first_frame(w)} * frame_ns + settle_ns;
    const std::int64_t to =
        start_ns + std::int64_t{std::min(plan.window_first_frame(w + 1), plan.frames())} * frame_ns;
    std::size_t first = slots, last = 0;
    for (std::size_t s = 0; s < slots; ++s) {
      if (record.arrival_ns[s] >= from && record.arrival_ns[s] < to) {
        first = std::min(first, s);
        last = s;
      }
    }
    if (first == slots || (last - first + 1) * frame_ns < 500'000'000) continue;
    const std::span<const std::int16_t> block(record.audio.data() + first * samples, (last - first + 1) * samples);
    ++result.windows_checked;
    bool window_ok = true;
    // By tone: in a conference larger than the tone count a tone belongs to
    // several members. A tone must be heard when some other member with it
    // talks audibly, and must be absent when no other member with it talks.
    plan.talkers_in_window(w, talkers);
    for (std::uint32_t t = 0; t < plan.tone_count(); ++t) {
      bool required = false, talked = false;
      for (const std::uint32_t m : talkers) {
        if (m == member || plan.tone_of(m) != t) continue;
        talked = true;
        required = required || plan.audible_to(m, member, w);
      }
      const double hz = plan.tone_hz_of_index(t);
      const double power = sim::tone_power(block, hz, rate);
      if (power >= kWindowPresent) heard.insert(hz);
      if (required && power < kWindowPresent) {
        missing.insert(hz);
        window_ok = false;
      }
      if (!talked && power > kWindowAbsent) {
        unexpected.insert(hz);
        window_ok = false;
      }
    }
    if (!window_ok) ++result.windows_failed;
  }
  result.heard_hz.assign(heard.begin(), heard.end());
  result.missing_hz.assign(missing.begin(), missing.end());
  result.unexpected_hz.assign(unexpected.begin(), unexpected.end());
}

void print_progress(MpClient& client, const std::set<std::uint32_t>& ours, double elapsed_s,
                    std::uint64_t listener_packets) {
  std::uint32_t participants = 0, speakers = 0;
  const mp::v1::AuditResponse audit = client.audit();
  for (const auto& conference : audit.conferences()) {
    if (!ours.count(conference.conference_id())) continue;
    for (const auto& p : conference.participants()) {
      ++participants;
      speakers += p.speaking();
    }
  }
  const MixerCounters counters = mixer_counters(client.stats(), ours);
  std::cout << "t=" << static_cast<int>(elapsed_s) << "s participants " << participants << " speakers " << speakers
            << " mixer rx " << counters.rx_packets << " tx " << counters.tx_packets << " drops " << counters.drops
            << " overruns " << counters.tick_overruns << " | listeners received " << listener_packets << std::endl;
}

void make_realtime(int priority, const char* which) {
  sched_param parameters{};
  parameters.sched_priority = priority;
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) != 0) {
    std::cerr << "warning: --realtime-sender: SCHED_FIFO refused for the " << which
              << " (needs root or CAP_SYS_NICE)\n";
  }
}

// --io-core, once the precomputation (on every core) is done: every thread of
// this process (gRPC's, EAL's, the main one) and every thread made later (the
// I/O threads) runs there, off mrfpd's core: any of them there would preempt
// mrfpd's worker.
void keep_off_mrfpd_core(const LoadOptions& options) {
  if (options.io_core < 0) return;
  cpu_set_t cores;
  CPU_ZERO(&cores);
  CPU_SET(static_cast<unsigned>(options.io_core), &cores);
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(task.path().filename().c_str()));
    if (tid > 0 && sched_setaffinity(tid, sizeof cores, &cores) != 0) {
      std::cerr << "warning: --io-core " << options.io_core << " refused for thread " << tid << "\n";
    }
  }
}

std::unique_ptr<Transport> make_transport(const LoadOptions& options) {
  if (options.memif_socket.empty()) return std::make_unique<SocketTransport>();
  MemifOptions memif;
  memif.socket_path = options.memif_socket;
  memif.eal_args = options.eal_args.empty() ? default_memif_eal_args() : options.eal_args;
  memif.local_address = options.memif_address;
  memif.mixer_address = options.memif_mixer_address;
  return std::make_unique<MemifTransport>(memif);
}

}  // namespace

std::vector<std::string> load_generator_faults(const InstrumentWatch& watch) {
  std::vector<std::string> faults;
  if (watch.receive_ring_ms > 0 && watch.longest_receive_gap_ms > watch.receive_ring_ms) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "the load generator's I/O thread did not receive for %.1f ms, longer than mrfpd's TX ring toward it "
                  "lasts (%.1f ms): mrfpd had to drop what it sent meanwhile",
                  watch.longest_receive_gap_ms, watch.receive_ring_ms);
    faults.emplace_back(text);
  }
  if (watch.receive_drops) {
    faults.push_back(std::to_string(watch.receive_drops) +
                     " datagram(s) lost in the load generator's own receive socket or ring");
  }
  return faults;
}

Distribution distribution_of(std::vector<double> values) {
  Distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.count = values.size();
  auto at = [&](double q) {
    return values[std::min(values.size() - 1, static_cast<std::size_t>(std::ceil(q * values.size())) - 1)];
  };
  d.p50 = at(0.5);
  d.p99 = at(0.99);
  d.max = values.back();
  return d;
}

LoadResult run_load(const LoadOptions& options) {
  LoadPlan plan(options);
  LoadResult result;
  result.options = options;
  result.participants = plan.participant_count();

  MpClient client(options.server);
  if (!client.wait_until_serving(10)) throw std::runtime_error("mrfpd at " + options.server + " does not answer Health");
  std::unique_ptr<Transport> transport = make_transport(options);

  // Packets first: a conference's clock runs from its creation, and a long
  // precomputation on every core would starve mrfpd's ticks before the run.
  auto phase = std::chrono::steady_clock::now();
  const std::vector<srtp::MasterKey> group_keys = make_group_keys(options);
  double encoder_delay_ms = 0;
  const std::vector<PacketTrack> tracks = precompute(plan, group_keys, encoder_delay_ms);
  std::vector<Onset> onsets;
  const std::vector<ScheduledSend> schedule = make_schedule(plan, onsets);
  std::vector<std::int64_t> onset_sent_ns(onsets.size(), 0);
  result.precompute_s = seconds_since(phase);
  keep_off_mrfpd_core(options);

  // The receiver runs from before the set-up: mixer output starts with the
  // first participant, and over memif an RX ring nobody drains during a long
  // set-up makes mrfpd refuse frames, which would show as loss at the start.
  ListenerMonitor monitor(plan, *transport, group_keys);
  std::atomic<bool> stop_receiving{false}, stop_sending{false}, sending_done{false};
  // A polled transport (memif) does all its I/O on one thread (io_loop.h says
  // why); sockets keep a receiving and a sending thread, the kernel buffering
  // between them. Declared before the receiver so it outlives it.
  const bool one_io_thread = !options.memif_socket.empty();
  std::optional<Pacer> pacer;
  std::atomic<Pacer*> offered_pacer{nullptr};
  IoLoopTotals io_totals;  // the I/O thread's, final once it is joined
  std::thread receiver([&] {
    // Over memif the RX ring is the only buffer (no socket buffer behind it):
    // with --realtime-sender the I/O thread runs in real time, so neither its
    // deadlines nor the ring wait for anything else on its core.
    if (options.realtime_sender && one_io_thread) make_realtime(11, "I/O");
    transport->attach_io_thread();
    const ThreadWaits waits_before = this_thread_waits();
    if (one_io_thread) {
      run_io_loop(monitor, transport->max_receive_batch(), transport->max_batch(), offered_pacer, stop_sending,
                  sending_done, stop_receiving, io_totals);
    } else {
      monitor.run(stop_receiving);
    }
    const ThreadWaits waits_after = this_thread_waits();
    result.receiver_run_delay_ms = waits_after.run_delay_ms - waits_before.run_delay_ms;
    result.receiver_involuntary_switches = waits_after.involuntary_switches - waits_before.involuntary_switches;
    transport->detach_io_thread();
  });
  struct JoinOnExit {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinOnExit() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } join_receiver{stop_receiving, receiver};

  phase = std::chrono::steady_clock::now();
  std::vector<std::uint32_t> conference_ids;
  std::vector<sockaddr_in> destinations;
  set_up(client, plan, *transport, group_keys, conference_ids, destinations);
  transport->set_destinations(destinations);
  const std::set<std::uint32_t> ours(conference_ids.begin(), conference_ids.end());
  result.setup_s = seconds_since(phase);

  // Counted over the run only: the set-up and the precomputation are not load.
  const MixerCounters before = mixer_counters(client.stats(), ours);
  const double cpu_before = options.mrfpd_pid ? process_cpu_seconds(options.mrfpd_pid) : -1;
  const double own_cpu_before = process_cpu_seconds(static_cast<int>(getpid()));
  const double steal_before = machine_steal_seconds();
  const long long own_faults_before = process_major_faults(static_cast<int>(getpid()));
  const long long mrfpd_faults_before = options.mrfpd_pid ? process_major_faults(options.mrfpd_pid) : -1;
  const std::optional<ThreadWaits> worker_waits_before =
      options.mrfpd_pid ? mrfpd_worker_waits(options.mrfpd_pid) : std::nullopt;
  // The deadlines start after the baseline RPC above, which a loaded mrfpd may answer slowly.
  const std::int64_t start_ns = monotonic_ns() + 200'000'000;
  const auto wall_before = std::chrono::steady_clock::now();
  std::thread sending;
  if (one_io_thread) {
    pacer.emplace(*transport, schedule, tracks, start_ns, onset_sent_ns);
    offered_pacer.store(&*pacer, std::memory_order_release);
  } else {
    sending = std::thread([&] {
      // Packets from real endpoints arrive whatever the load of this machine:
      // a real-time sender keeps its deadlines while mrfpd and others compete.
      if (options.realtime_sender) make_realtime(10, "sender");
      transport->attach_io_thread();
      pacer.emplace(*transport, schedule, tracks, start_ns, onset_sent_ns);
      pacer->run(stop_sending);
      transport->detach_io_thread();
      sending_done.store(true, std::memory_order_release);
    });
  }
  const auto run_start = std::chrono::steady_clock::now();
  auto next_report = run_start + std::chrono::seconds(1);
  while (!sending_done.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (options.progress && std::chrono::steady_clock::now() >= next_report) {
      next_report += std::chrono::seconds(1);
      try {
        print_progress(client, ours, seconds_since(run_start), monitor.total_packets());
      } catch (const std::exception& error) {
        std::cout << "progress: " << error.what() << std::endl;
      }
    }
  }
  if (sending.joinable()) sending.join();
  const SenderTotals& sent = pacer->totals();
  const double cpu_after = options.mrfpd_pid ? process_cpu_seconds(options.mrfpd_pid) : -1;
  const double own_cpu_after = process_cpu_seconds(static_cast<int>(getpid()));
  result.steal_ms = (machine_steal_seconds() - steal_before) * 1000;
  result.loadgen_major_faults = process_major_faults(static_cast<int>(getpid())) - own_faults_before;
  if (worker_waits_before) {
    if (const std::optional<ThreadWaits> after = mrfpd_worker_waits(options.mrfpd_pid)) {
      result.mrfpd_worker_run_delay_ms = after->run_delay_ms - worker_waits_before->run_delay_ms;
      result.mrfpd_worker_involuntary_switches = after->involuntary_switches - worker_waits_before->involuntary_switches;
    }
  }
  if (mrfpd_faults_before >= 0) {
    const long long after = process_major_faults(options.mrfpd_pid);
    if (after >= 0) result.mrfpd_major_faults = after - mrfpd_faults_before;
  }
  const double wall = seconds_since(wall_before);
  // The mixer's jitter buffer still holds the last frames.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  result.mixer = mixer_counters(client.stats(), ours);
  result.mixer.tick_overruns -= before.tick_overruns;
  result.mixer.tx_dropped -= before.tx_dropped;
  result.mixer.io_tx_refused -= before.io_tx_refused;
  result.mixer.worker_receive_gaps_over_frame -= before.worker_receive_gaps_over_frame;
  result.mixer.ticks -= before.ticks;
  result.mixer_overruns_before_run = before.tick_overruns;
  stop_receiving = true;
  receiver.join();
  result.run_s = wall;
  if (cpu_before >= 0 && cpu_after >= 0) result.mrfpd_cpu_cores = (cpu_after - cpu_before) / wall;
  result.loadgen_cpu_cores = (own_cpu_after - own_cpu_before) / wall;
  for (const auto id : conference_ids) {
    try {
      client.delete_conference(id);
    } catch (const std::exception& error) {
      std::cerr << "warning: " << error.what() << "\n";
    }
  }

  result.sent = sent.sent;
  result.send_errors = sent.send_errors;
  result.sent_late_over_1ms = sent.late_over_1ms;
  result.sender_max_lateness_ms = static_cast<double>(sent.max_lateness_ns) / 1e6;
  result.sender_max_batch_ms = static_cast<double>(sent.max_batch_ns) / 1e6;
  result.instrument.receive_drops = monitor.socket_drops();
  result.instrument.longest_receive_gap_ms = static_cast<double>(io_totals.longest_receive_gap_ns) / 1e6;
  if (const std::size_t ring = transport->receive_ring_frames(); ring > 0) {
    const double listener_packets_per_s = plan.participant_count() * 1000.0 / options.frame_ms;
    result.instrument.receive_ring_ms = static_cast<double>(ring) / listener_packets_per_s * 1000;
  }
  result.stray_packets = monitor.stray_packets();

  std::vector<double> latencies, jitters;
  for (std::uint32_t p = 0; p < plan.participant_count(); ++p) {
    const ListenerRecord& record = monitor.listeners()[p];
    ListenerResult listener;
    listener.participant = p;
    listener.conference = plan.conference_of(p);
    listener.member = plan.member_of(p);
    listener.tone_hz = plan.tone_hz(listener.member);
    listener.sampled = plan.sampled(p);
    listener.packets = record.packets;
    listener.lost = record.lost();
    listener.duplicates = record.duplicates;
    listener.reordered = record.reordered;
    listener.auth_failures = record.auth_failures;
    listener.ssrc_changes = record.ssrc_changes;
    listener.jitter_ms = record.jitter_ns / 1e6;
    listener.max_gap_ms = static_cast<double>(record.max_gap_ns) / 1e6;
    if (listener.sampled) {
      analyse_sampled(plan, record, p, onsets, onset_sent_ns, start_ns, encoder_delay_ms, listener);
      ++result.sampled_listeners;
      latencies.insert(latencies.end(), listener.latencies_ms.begin(), listener.latencies_ms.end());
      result.windows_checked += listener.windows_checked;
      result.windows_failed += listener.windows_failed;
      result.onsets_missed += listener.onsets_missed;
      result.onsets_unmeasured += listener.onsets_unmeasured;
      if (listener.windows_failed || listener.windows_checked == 0) ++result.listeners_with_wrong_tones;
    }
    if (record.packets == 0) ++result.silent_listeners;
    result.received += record.packets;
    result.lost += listener.lost;
    result.duplicates += listener.duplicates;
    result.reordered += listener.reordered;
    result.auth_failures += listener.auth_failures;
    result.max_gap_ms = std::max(result.max_gap_ms, listener.max_gap_ms);
    jitters.push_back(listener.jitter_ms);
    result.listeners.push_back(std::move(listener));
  }
  result.latency_ms = distribution_of(latencies);
  result.jitter_ms = distribution_of(jitters);

  // The first sampled listener's audio, from its first frame to its last.
  for (std::uint32_t p = 0; p < plan.participant_count(); ++p) {
    const ListenerRecord& record = monitor.listeners()[p];
    if (!plan.sampled(p) || record.packets == 0) continue;
    std::size_t first = record.arrival_ns.size(), last = 0;
    for (std::size_t s = 0; s < record.arrival_ns.size(); ++s) {
      if (record.arrival_ns[s]) {
        first = std::min(first, s);
        last = s;
      }
    }
    const std::size_t samples = plan.samples_per_frame();
    result.sample_audio.assign(record.audio.begin() + static_cast<std::ptrdiff_t>(first * samples),
                               record.audio.begin() + static_cast<std::ptrdiff_t>((last + 1) * samples));
    result.sample_audio_rate = mixer::native_pcm_rate(options.codec);
    result.sample_audio_participant = p;
    break;
  }

  auto fail = [&](std::string why) { result.failures.push_back(std::move(why)); };
  if (result.silent_listeners) fail(std::to_string(result.silent_listeners) + " listener(s) received nothing");
  if (result.lost) fail(std::to_string(result.lost) + " packet(s) lost on the way to listeners");
  if (result.auth_failures) fail(std::to_string(result.auth_failures) + " packet(s) failed libsrtp2 authentication");
  if (result.listeners_with_wrong_tones) {
    fail(std::to_string(result.listeners_with_wrong_tones) + " sampled listener(s) heard the wrong tones");
  }
  if (result.onsets_missed) fail(std::to_string(result.onsets_missed) + " talk-spurt onset(s) never heard");
  // The bound: one frame (a packet waits for the next tick) plus the
  // jitter buffer's depth, as mrfpd reports it at the end of the run.
  result.latency_bound_ms = options.latency_bound_ms > 0 ? options.latency_bound_ms
                                                         : options.frame_ms + result.mixer.max_jitter_buffer_ms;
  if (result.latency_ms.p99 > result.latency_bound_ms) fail("latency p99 above the bound");
  if (result.mixer.tick_overruns) fail(std::to_string(result.mixer.tick_overruns) + " mixer tick overrun(s)");
  if (result.mixer.tx_dropped) {
    fail(std::to_string(result.mixer.tx_dropped) + " packet(s) mrfpd could not hand to its I/O (mixer-side loss)");
  }
  if (result.mixer.io_tx_refused) {
    fail(std::to_string(result.mixer.io_tx_refused) + " frame(s) mrfpd's full DPDK TX ring refused (the receiving side did not keep up)");
  }
  if (result.send_errors) fail(std::to_string(result.send_errors) + " send error(s)");
  result.load_generator_faults = load_generator_faults(result.instrument);
  return result;
}

}  // namespace mrfp::loadgen
