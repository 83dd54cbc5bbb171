// One load run against a running mrfpd: conferences and participants through
// the Mp API, precomputed libsrtp2 packets sent at exact pacing, every
// listener counted, a sample decrypted and checked, and the verdict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/load_plan.h"

namespace mrfp::loadgen {

struct ListenerResult {
  std::uint32_t participant = 0, conference = 0, member = 0;
  double tone_hz = 0;
  bool sampled = false;
  std::uint64_t packets = 0, lost = 0, duplicates = 0, reordered = 0, auth_failures = 0, ssrc_changes = 0;
  double jitter_ms = 0, max_gap_ms = 0;
  // Sampled listeners only.
  std::vector<double> latencies_ms;
  std::uint64_t onsets_missed = 0, windows_checked = 0, windows_failed = 0;
  std::uint64_t onsets_unmeasured = 0;  // the tone already showed before the onset (close neighbour)
  std::vector<double> heard_hz, missing_hz, unexpected_hz;  // over all windows
};

struct Distribution {
  std::uint64_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};
Distribution distribution_of(std::vector<double> values);

struct MixerCounters {
  std::uint64_t rx_packets = 0, tx_packets = 0, drops = 0, drop_auth_failed = 0, jitter_lost = 0, jitter_late = 0,
                concealed = 0, ticks = 0, tick_overruns = 0, tx_dropped = 0;
  double max_jitter_buffer_ms = 0;  // deepest target depth among our participants
  std::uint64_t io_tx_refused = 0;  // DPDK: frames mrfpd's full TX ring refused (all workers)
  std::vector<double> worker_loads;
  // Times a worker stayed away from its receive queue longer than a frame
  // (during the run), and the longest such time since mrfpd started.
  std::uint64_t worker_receive_gaps_over_frame = 0;
  double worker_longest_receive_gap_ms = 0;
};

// What the load generator saw of itself. A run that failed while the load
// generator could not keep up measured the load generator, not mrfpd: it is
// void, neither held nor failed (the capacity runner runs it again).
struct InstrumentWatch {
  // Over memif: the I/O thread's longest gap between two receive polls while
  // sending, and how long mrfpd's TX ring toward us lasts at this run's output
  // rate (0 over sockets, whose overflow is receive_drops).
  double longest_receive_gap_ms = 0, receive_ring_ms = 0;
  std::uint64_t receive_drops = 0;  // datagrams our own socket or RX ring lost
};
// Why the load generator may have caused a failure; empty when it kept up.
std::vector<std::string> load_generator_faults(const InstrumentWatch& watch);

enum class Verdict { held, failed, void_run };

struct LoadResult {
  LoadOptions options;
  std::uint32_t participants = 0;
  double setup_s = 0, precompute_s = 0, run_s = 0;
  // Load generator.
  std::uint64_t sent = 0, send_errors = 0, sent_late_over_1ms = 0;
  double sender_max_lateness_ms = 0, sender_max_batch_ms = 0;
  std::uint64_t stray_packets = 0;
  InstrumentWatch instrument;  // its receive_drops: our own socket's or ring's
  double loadgen_cpu_cores = 0;  // this process over the run: is the load generator the bottleneck?
  double steal_ms = 0;           // CPU time the hypervisor took from this machine during the run
  // The receiving (over memif: the only) I/O thread, from the set-up to the
  // end: time runnable but not running, and preemptions.
  double receiver_run_delay_ms = 0;
  long long receiver_involuntary_switches = 0;
  long long loadgen_major_faults = 0;  // pages this process waited to read back during the run
  long long mrfpd_major_faults = -1;   // the same for mrfpd; -1: not measured
  // Listeners.
  std::uint64_t received = 0, lost = 0, duplicates = 0, reordered = 0, auth_failures = 0;
  std::uint32_t sampled_listeners = 0, silent_listeners = 0, listeners_with_wrong_tones = 0;
  std::uint64_t windows_checked = 0, windows_failed = 0, onsets_missed = 0, onsets_unmeasured = 0;
  Distribution latency_ms, jitter_ms;
  double latency_bound_ms = 0;  // the bound the verdict applied (see LoadOptions)
  double max_gap_ms = 0;
  // mrfpd.
  MixerCounters mixer;                         // ticks and overruns: during the run only
  std::uint64_t mixer_overruns_before_run = 0;  // while setting up and precomputing
  double mrfpd_cpu_cores = -1;  // CPU seconds per wall second over the run; -1: not measured
  // mrfpd's worker threads over the run: runnable but not running, and
  // preemptions (-1: not measured). A worker gap these do not explain
  // happened below the guest's scheduler.
  double mrfpd_worker_run_delay_ms = -1;
  long long mrfpd_worker_involuntary_switches = -1;
  // Verdict.
  std::vector<std::string> failures;
  std::vector<std::string> load_generator_faults;
  bool passed() const { return failures.empty(); }
  Verdict verdict() const {
    return passed() ? Verdict::held : load_generator_faults.empty() ? Verdict::failed : Verdict::void_run;
  }
  std::vector<ListenerResult> listeners;
  // One sampled listener's decoded audio, for --wav.
  std::vector<std::int16_t> sample_audio;
  std::uint32_t sample_audio_rate = 8000, sample_audio_participant = 0;
};

// Throws std::runtime_error if mrfpd refuses the set-up.
LoadResult run_load(const LoadOptions& options);

}  // namespace mrfp::loadgen
