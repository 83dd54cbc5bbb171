#include "bench/loadgen/report.h"

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace mrfp::loadgen {

namespace {

std::string tones_text(const std::vector<double>& tones) {
  std::ostringstream out;
  for (std::size_t i = 0; i < tones.size(); ++i) out << (i ? " " : "") << static_cast<int>(tones[i]);
  return tones.empty() ? "-" : out.str();
}

std::string policy_name(const LoadOptions& options) {
  return options.every_participant_policy ? "EVERY_PARTICIPANT" : "SHARED_STREAMS";
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

std::string number_list(const std::vector<double>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + number(values[i]);
  return out + "]";
}

std::string distribution_json(const Distribution& d) {
  return "{\"count\":" + std::to_string(d.count) + ",\"p50\":" + number(d.p50) + ",\"p99\":" + number(d.p99) +
         ",\"max\":" + number(d.max) + "}";
}

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string string_list_json(const std::vector<std::string>& texts) {
  std::string out = "[";
  for (std::size_t i = 0; i < texts.size(); ++i) out += (i ? ",\"" : "\"") + escaped(texts[i]) + "\"";
  return out + "]";
}

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::held: return "held";
    case Verdict::failed: return "failed";
    case Verdict::void_run: return "void";
  }
  return "failed";
}

}  // namespace

void print_summary(const LoadResult& r, std::ostream& out) {
  const LoadOptions& o = r.options;
  out << std::fixed << std::setprecision(2);
  out << "\n== mrfp-loadgen: " << o.conferences << " conference(s) x " << o.participants_per_conference << " = "
      << r.participants << " participants, " << mixer::name(o.codec) << " " << o.frame_ms << " ms, "
      << srtp::name(o.suite) << ", " << policy_name(o) << ", top-" << o.speakers << ", "
      << (o.all_talk ? std::string("everybody talking") : std::to_string(o.talkers) + " talker(s) rotating every " +
                                                              std::to_string(o.spurt_s).substr(0, 4) + " s")
      << "\n";
  out << "set-up " << r.setup_s << " s, precompute " << r.precompute_s << " s, run " << r.run_s << " s\n";
  out << "sent " << r.sent << " (errors " << r.send_errors << ", >1 ms late " << r.sent_late_over_1ms
      << ", worst lateness " << r.sender_max_lateness_ms << " ms, longest batch " << r.sender_max_batch_ms << " ms); receive socket drops " << r.instrument.receive_drops << ", load generator CPU "
      << r.loadgen_cpu_cores * 100 << " % of one core (its I/O thread waited " << r.receiver_run_delay_ms
      << " ms runnable, preempted " << r.receiver_involuntary_switches << " times";
  if (r.instrument.receive_ring_ms > 0) {
    out << "; longest gap between receives " << r.instrument.longest_receive_gap_ms << " ms, mrfpd's TX ring lasts "
        << r.instrument.receive_ring_ms << " ms";
  }
  out << "); hypervisor steal " << r.steal_ms
      << " ms; major page faults: load generator "
      << r.loadgen_major_faults << ", mrfpd " << r.mrfpd_major_faults
      << "\n";
  out << "listeners received " << r.received << ", lost " << r.lost << ", duplicates " << r.duplicates
      << ", reordered " << r.reordered << ", auth failures " << r.auth_failures << " (" << r.sampled_listeners
      << " sampled)\n";
  out << "output jitter p50 " << r.jitter_ms.p50 << " ms, p99 " << r.jitter_ms.p99 << " ms, max gap "
      << r.max_gap_ms << " ms\n";
  out << "mixer-added latency (onset to first heard): p50 " << r.latency_ms.p50 << " ms, p99 " << r.latency_ms.p99
      << " ms, max " << r.latency_ms.max << " ms over " << r.latency_ms.count << " onsets, missed "
      << r.onsets_missed << ", not measurable " << r.onsets_unmeasured << "; bound " << r.latency_bound_ms
      << " ms (jitter buffer " << r.mixer.max_jitter_buffer_ms << " ms)\n";
  out << "tone checks: " << r.windows_checked << " talk-spurt windows, " << r.windows_failed << " wrong\n";
  out << "mrfpd: rx " << r.mixer.rx_packets << " tx " << r.mixer.tx_packets << " drops " << r.mixer.drops
      << " (auth " << r.mixer.drop_auth_failed << ") jitter-lost " << r.mixer.jitter_lost << " concealed "
      << r.mixer.concealed << " ticks " << r.mixer.ticks << " overruns " << r.mixer.tick_overruns << " (before the run " << r.mixer_overruns_before_run << ")";
  if (r.mrfpd_cpu_cores >= 0) out << ", CPU " << r.mrfpd_cpu_cores * 100 << " % of one core";
  out << "; workers away from their receive queue longer than a frame " << r.mixer.worker_receive_gaps_over_frame
      << " time(s) (longest since mrfpd started " << r.mixer.worker_longest_receive_gap_ms << " ms)";
  if (r.mrfpd_worker_run_delay_ms >= 0) {
    out << "; its workers waited " << r.mrfpd_worker_run_delay_ms << " ms runnable, preempted "
        << r.mrfpd_worker_involuntary_switches << " times";
  }
  out << "\n";
  std::size_t shown = 0;
  for (const auto& l : r.listeners) {
    if (!l.sampled) continue;
    if (++shown > 16) {
      out << "  ... (" << r.sampled_listeners - 16 << " more sampled listeners in the JSON)\n";
      break;
    }
    const Distribution latency = distribution_of(l.latencies_ms);
    out << "  listener " << l.participant << " (conf " << l.conference << ", own tone " << static_cast<int>(l.tone_hz)
        << " Hz): heard " << tones_text(l.heard_hz) << " | missing " << tones_text(l.missing_hz) << " | unexpected "
        << tones_text(l.unexpected_hz) << " | loss " << l.lost << " auth " << l.auth_failures << " | latency p50 "
        << latency.p50 << " ms | windows " << l.windows_checked - l.windows_failed << "/" << l.windows_checked
        << " ok\n";
  }
  switch (r.verdict()) {
    case Verdict::held: out << "RESULT: PASS\n"; break;
    case Verdict::failed: out << "RESULT: FAIL\n"; break;
    case Verdict::void_run: out << "RESULT: VOID (the load generator fell behind: this run measured it, not mrfpd)\n"; break;
  }
  for (const auto& why : r.failures) out << "  - " << why << "\n";
  for (const auto& why : r.load_generator_faults) out << "  - load generator: " << why << "\n";
}

void write_json(const LoadResult& r, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  const LoadOptions& o = r.options;
  out << "{\n\"config\":{\"conferences\":" << o.conferences << ",\"participants_per_conference\":"
      << o.participants_per_conference << ",\"participants\":" << r.participants << ",\"codec\":\""
      << mixer::name(o.codec) << "\",\"frame_ms\":" << o.frame_ms << ",\"suite\":\"" << srtp::name(o.suite)
      << "\",\"policy\":\"" << policy_name(o) << "\",\"speakers\":" << o.speakers << ",\"levels\":"
      << (o.levels ? "true" : "false") << ",\"talkers\":" << o.talkers << ",\"spurt_s\":" << number(o.spurt_s)
      << ",\"all_talk\":" << (o.all_talk ? "true" : "false") << ",\"duration_s\":" << number(o.duration_s)
      << ",\"jitter_ms\":" << number(o.jitter_ms) << ",\"loss_percent\":" << number(o.loss_percent)
      << ",\"reorder_percent\":" << number(o.reorder_percent) << "},\n";
  out << "\"timing_s\":{\"setup\":" << number(r.setup_s) << ",\"precompute\":" << number(r.precompute_s)
      << ",\"run\":" << number(r.run_s) << "},\n";
  out << "\"loadgen\":{\"sent\":" << r.sent << ",\"send_errors\":" << r.send_errors << ",\"late_over_1ms\":"
      << r.sent_late_over_1ms << ",\"max_lateness_ms\":" << number(r.sender_max_lateness_ms) << ",\"max_batch_ms\":" << number(r.sender_max_batch_ms)
      << ",\"receive_socket_drops\":" << r.instrument.receive_drops << ",\"cpu_cores\":" << number(r.loadgen_cpu_cores) << ",\"stray_packets\":" << r.stray_packets
      << ",\"machine_steal_ms\":" << number(r.steal_ms) << ",\"io_thread_run_delay_ms\":" << number(r.receiver_run_delay_ms)
      << ",\"io_thread_involuntary_switches\":" << r.receiver_involuntary_switches << ",\"major_faults\":" << r.loadgen_major_faults
      << ",\"mrfpd_major_faults\":" << r.mrfpd_major_faults
      << ",\"io_longest_receive_gap_ms\":" << number(r.instrument.longest_receive_gap_ms)
      << ",\"receive_ring_ms\":" << number(r.instrument.receive_ring_ms) << "},\n";
  out << "\"listeners_total\":{\"received\":" << r.received << ",\"lost\":" << r.lost << ",\"duplicates\":"
      << r.duplicates << ",\"reordered\":" << r.reordered << ",\"auth_failures\":" << r.auth_failures
      << ",\"sampled\":" << r.sampled_listeners << ",\"silent\":" << r.silent_listeners
      << ",\"wrong_tones\":" << r.listeners_with_wrong_tones << ",\"windows_checked\":" << r.windows_checked
      << ",\"windows_failed\":" << r.windows_failed << ",\"onsets_missed\":" << r.onsets_missed
      << ",\"onsets_unmeasured\":" << r.onsets_unmeasured << ",\"latency_ms\":" << distribution_json(r.latency_ms)
      << ",\"latency_bound_ms\":" << number(r.latency_bound_ms) << ",\"jitter_buffer_ms\":" << number(r.mixer.max_jitter_buffer_ms) << ",\"jitter_ms\":" << distribution_json(r.jitter_ms)
      << ",\"max_gap_ms\":" << number(r.max_gap_ms) << "},\n";
  out << "\"mrfpd\":{\"rx_packets\":" << r.mixer.rx_packets << ",\"tx_packets\":" << r.mixer.tx_packets
      << ",\"drops\":" << r.mixer.drops << ",\"drop_auth_failed\":" << r.mixer.drop_auth_failed
      << ",\"jitter_lost\":" << r.mixer.jitter_lost << ",\"jitter_late\":" << r.mixer.jitter_late
      << ",\"concealed\":" << r.mixer.concealed << ",\"ticks\":" << r.mixer.ticks << ",\"tick_overruns\":"
      << r.mixer.tick_overruns << ",\"tx_dropped\":" << r.mixer.tx_dropped << ",\"io_tx_refused\":" << r.mixer.io_tx_refused
      << ",\"tick_overruns_before_run\":" << r.mixer_overruns_before_run << ",\"worker_loads\":" << number_list(r.mixer.worker_loads)
      << ",\"worker_receive_gaps_over_frame\":" << r.mixer.worker_receive_gaps_over_frame
      << ",\"worker_longest_receive_gap_ms\":" << number(r.mixer.worker_longest_receive_gap_ms)
      << ",\"worker_run_delay_ms\":" << number(r.mrfpd_worker_run_delay_ms)
      << ",\"worker_involuntary_switches\":" << r.mrfpd_worker_involuntary_switches
      << ",\"cpu_cores\":" << number(r.mrfpd_cpu_cores) << "},\n";
  out << "\"passed\":" << (r.passed() ? "true" : "false") << ",\"verdict\":\"" << verdict_name(r.verdict())
      << "\",\"failures\":" << string_list_json(r.failures)
      << ",\"load_generator_faults\":" << string_list_json(r.load_generator_faults) << ",\n\"listeners\":[\n";
  for (std::size_t i = 0; i < r.listeners.size(); ++i) {
    const auto& l = r.listeners[i];
    out << "{\"participant\":" << l.participant << ",\"conference\":" << l.conference << ",\"tone_hz\":"
        << number(l.tone_hz) << ",\"packets\":" << l.packets << ",\"lost\":" << l.lost << ",\"duplicates\":"
        << l.duplicates << ",\"reordered\":" << l.reordered << ",\"ssrc_changes\":" << l.ssrc_changes
        << ",\"jitter_ms\":" << number(l.jitter_ms) << ",\"max_gap_ms\":" << number(l.max_gap_ms)
        << ",\"sampled\":" << (l.sampled ? "true" : "false");
    if (l.sampled) {
      out << ",\"auth_failures\":" << l.auth_failures << ",\"latency_ms\":" << number_list(l.latencies_ms)
          << ",\"onsets_missed\":" << l.onsets_missed << ",\"windows_checked\":" << l.windows_checked
          << ",\"windows_failed\":" << l.windows_failed << ",\"heard_hz\":" << number_list(l.heard_hz)
          << ",\"missing_hz\":" << number_list(l.missing_hz) << ",\"unexpected_hz\":" << number_list(l.unexpected_hz);
    }
    out << "}" << (i + 1 < r.listeners.size() ? "," : "") << "\n";
  }
  out << "]}\n";
}

void write_summary_kv(const LoadResult& r, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << "participants=" << r.participants << "\npassed=" << (r.passed() ? 1 : 0)
      << "\nverdict=" << verdict_name(r.verdict()) << "\nlost=" << r.lost
      << "\nauth_failures=" << r.auth_failures << "\ntick_overruns=" << r.mixer.tick_overruns
      << "\nlatency_p99_ms=" << number(r.latency_ms.p99) << "\nlatency_p50_ms=" << number(r.latency_ms.p50)
      << "\nlatency_bound_ms=" << number(r.latency_bound_ms)
      << "\njitter_p99_ms=" << number(r.jitter_ms.p99) << "\ncpu_cores=" << number(r.mrfpd_cpu_cores)
      << "\nreceived=" << r.received << "\nreceive_socket_drops=" << r.instrument.receive_drops << "\nloadgen_cpu_cores=" << number(r.loadgen_cpu_cores)
      << "\nsteal_ms=" << number(r.steal_ms) << "\nloadgen_major_faults=" << r.loadgen_major_faults
      << "\nmrfpd_major_faults=" << r.mrfpd_major_faults
      << "\nio_longest_receive_gap_ms=" << number(r.instrument.longest_receive_gap_ms)
      << "\nworker_receive_gaps_over_frame=" << r.mixer.worker_receive_gaps_over_frame
      << "\nwrong_tones=" << r.listeners_with_wrong_tones << "\nsilent_listeners=" << r.silent_listeners
      << "\nonsets_missed=" << r.onsets_missed << "\nsampled_listeners=" << r.sampled_listeners
      << "\nsent=" << r.sent << "\nsend_errors=" << r.send_errors << "\nsent_late_over_1ms=" << r.sent_late_over_1ms
      << "\nstray_packets=" << r.stray_packets << "\nloss_ratio="
      << number(r.received + r.lost ? static_cast<double>(r.lost) / static_cast<double>(r.received + r.lost) : 0)
      << "\n";
}

void write_wav(const LoadResult& r, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  auto u32 = [&](std::uint32_t v) {
    const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
    out.write(b, 4);
  };
  auto u16 = [&](std::uint16_t v) {
    const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
    out.write(b, 2);
  };
  const auto data_bytes = static_cast<std::uint32_t>(r.sample_audio.size() * 2);
  out.write("RIFF", 4);
  u32(36 + data_bytes);
  out.write("WAVEfmt ", 8);
  u32(16);                       // PCM format chunk size
  u16(1);                        // PCM
  u16(1);                        // mono
  u32(r.sample_audio_rate);
  u32(r.sample_audio_rate * 2);  // byte rate
  u16(2);                        // block align
  u16(16);                       // bits per sample
  out.write("data", 4);
  u32(data_bytes);
  for (const std::int16_t sample : r.sample_audio) u16(static_cast<std::uint16_t>(sample));  // little endian
}

}  // namespace mrfp::loadgen
