#include "control/metrics_text.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

namespace mrfp::control {
namespace {

struct CounterField {
  const char* name;  // the Counters member and GetStats field name
  const char* help;
  std::uint64_t dataplane::Counters::*member;
};

using C = dataplane::Counters;
constexpr std::array<CounterField, 23> kCounterFields{{
    {"rx_packets", "Packets received.", &C::rx_packets},
    {"rx_bytes", "Bytes received.", &C::rx_bytes},
    {"tx_packets", "Packets sent.", &C::tx_packets},
    {"tx_bytes", "Bytes sent.", &C::tx_bytes},
    {"drop_malformed", "Packets dropped: not parseable RTP/RTCP.", &C::drop_malformed},
    {"drop_unknown_port", "Packets dropped: no participant on the local port.", &C::drop_unknown_port},
    {"drop_ssrc_mismatch", "Packets dropped: SSRC not the declared or latched one.", &C::drop_ssrc_mismatch},
    {"drop_source_mismatch", "Packets dropped: source address not the participant's.", &C::drop_source_mismatch},
    {"drop_auth_failed", "Packets dropped: SRTP authentication failed.", &C::drop_auth_failed},
    {"drop_replayed", "Packets dropped: SRTP replay.", &C::drop_replayed},
    {"drop_too_old", "Packets dropped: behind the replay window.", &C::drop_too_old},
    {"drop_unknown_mki", "Packets dropped: MKI of no installed key.", &C::drop_unknown_mki},
    {"drop_key_expired", "Packets dropped: key usage limit reached.", &C::drop_key_expired},
    {"drop_not_sending", "Packets dropped: participant muted, on hold or not sending.", &C::drop_not_sending},
    {"jitter_late", "Frames that arrived after their playout time.", &C::jitter_late},
    {"jitter_lost", "Frames never received.", &C::jitter_lost},
    {"concealed", "Frames concealed.", &C::concealed},
    {"ticks", "Mix ticks run.", &C::ticks},
    {"tick_overruns", "Mix ticks that overran their period.", &C::tick_overruns},
    {"rtcp_rx", "RTCP packets received.", &C::rtcp_rx},
    {"rtcp_tx", "RTCP packets sent.", &C::rtcp_tx},
    {"ssrc_rotations", "Output SSRCs replaced before their sequence could wrap.", &C::ssrc_rotations},
    {"tx_dropped", "Output packets the I/O did not take (full ring, no buffer, unresolved next hop).", &C::tx_dropped},
}};

class Exposition {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    text_ += name;
    if (!labels.empty()) text_ += "{" + labels + "}";
    char number[64];
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
      std::snprintf(number, sizeof number, " %.0f\n", value);
    } else {
      std::snprintf(number, sizeof number, " %.17g\n", value);
    }
    text_ += number;
  }
  void sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    text_ += name;
    if (!labels.empty()) text_ += "{" + labels + "}";
    text_ += " " + std::to_string(value) + "\n";
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string label(const char* key, std::uint64_t value) { return std::string(key) + "=\"" + std::to_string(value) + "\""; }

}  // namespace

std::string render_prometheus_metrics(dataplane::Controller& controller, const MetricsOptions& options) {
  std::vector<dataplane::ConferenceStats> conferences;
  for (dataplane::ConferenceId id : controller.conferences()) {
    auto stats = controller.conference_stats(id);
    if (stats) conferences.push_back(std::move(stats.value()));  // deleted meanwhile: skipped
  }
  const std::vector<dataplane::WorkerStats> workers = controller.worker_stats();

  Exposition out;
  out.family("mrfp_up", "gauge", "1 when the dataplane is healthy.");
  out.sample("mrfp_up", "", std::uint64_t{controller.healthy() ? 1u : 0u});
  out.family("mrfp_conferences", "gauge", "Conferences in progress.");
  out.sample("mrfp_conferences", "", std::uint64_t{conferences.size()});
  out.family("mrfp_conference_participants", "gauge", "Participants per conference.");
  for (const auto& conference : conferences) {
    out.sample("mrfp_conference_participants", label("conference", conference.id),
               std::uint64_t{conference.participants.size()});
  }

  for (const CounterField& field : kCounterFields) {
    const std::string name = std::string("mrfp_conference_") + field.name + "_total";
    out.family(name, "counter", field.help);
    for (const auto& conference : conferences) {
      out.sample(name, label("conference", conference.id), conference.counters.*field.member);
    }
  }

  out.family("mrfp_worker_load", "gauge", "Busy fraction of the worker over the last second.");
  for (const auto& worker : workers) out.sample("mrfp_worker_load", label("worker", worker.worker), worker.load);
  out.family("mrfp_worker_receive_gaps_over_frame_total", "counter",
             "Times the worker stayed away from its receive queue longer than a 20 ms frame.");
  for (const auto& worker : workers) {
    out.sample("mrfp_worker_receive_gaps_over_frame_total", label("worker", worker.worker),
               worker.receive_gaps_over_frame);
  }
  out.family("mrfp_worker_longest_receive_gap_ms", "gauge",
             "Longest time the worker stayed away from its receive queue since it started.");
  for (const auto& worker : workers) {
    out.sample("mrfp_worker_longest_receive_gap_ms", label("worker", worker.worker), worker.longest_receive_gap_ms);
  }
  for (const CounterField& field : kCounterFields) {
    const std::string name = std::string("mrfp_worker_") + field.name + "_total";
    out.family(name, "counter", field.help);
    for (const auto& worker : workers) out.sample(name, label("worker", worker.worker), worker.counters.*field.member);
  }
  // The backend's own counters: every worker has the same backend, so the
  // first one names the families.
  if (!workers.empty()) {
    for (std::size_t i = 0; i < workers.front().io.size(); ++i) {
      const std::string name = std::string("mrfp_io_") + workers.front().io[i].name + "_total";
      out.family(name, "counter", workers.front().io[i].help);
      for (const auto& worker : workers) {
        if (i < worker.io.size()) out.sample(name, label("worker", worker.worker), worker.io[i].value);
      }
    }
  }

  if (options.per_participant_labels) {
    auto participant_labels = [](const dataplane::ConferenceStats& conference,
                                 const dataplane::ParticipantStats& participant) {
      return label("conference", conference.id) + "," + label("participant", participant.id);
    };
    struct Gauge {
      const char* name;
      const char* help;
      double dataplane::ParticipantStats::*member;
    };
    constexpr Gauge kGauges[] = {
        {"mrfp_participant_jitter_ms", "Interarrival jitter (RFC 3550 §6.4.1), milliseconds.",
         &dataplane::ParticipantStats::jitter_ms},
        {"mrfp_participant_round_trip_ms", "Round trip from RTCP, milliseconds.",
         &dataplane::ParticipantStats::round_trip_ms},
        {"mrfp_participant_fraction_lost", "Fraction of packets lost.", &dataplane::ParticipantStats::fraction_lost},
        {"mrfp_participant_jitter_buffer_ms", "Target depth of the jitter buffer, milliseconds.",
         &dataplane::ParticipantStats::jitter_buffer_ms},
    };
    for (const Gauge& gauge : kGauges) {
      out.family(gauge.name, "gauge", gauge.help);
      for (const auto& conference : conferences) {
        for (const auto& participant : conference.participants) {
          out.sample(gauge.name, participant_labels(conference, participant), participant.*gauge.member);
        }
      }
    }
    for (const CounterField& field : kCounterFields) {
      const std::string name = std::string("mrfp_participant_") + field.name + "_total";
      out.family(name, "counter", field.help);
      for (const auto& conference : conferences) {
        for (const auto& participant : conference.participants) {
          out.sample(name, participant_labels(conference, participant), participant.counters.*field.member);
        }
      }
    }
  }
  return out.take();
}

}  // namespace mrfp::control
