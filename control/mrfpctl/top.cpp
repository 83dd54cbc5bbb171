// `mrfpctl top`: Audit + GetStats every interval, printed as a table. Plain
// text; on a terminal the screen is cleared between refreshes (ANSI), when
// piped each refresh follows the previous one.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <thread>

#include "control/mrfpctl/commands.h"
#include "control/mrfpctl/output.h"

namespace mrfp::control::cli {
namespace {

std::uint64_t drops_of(const mp::v1::Counters& c) {
  return c.drop_malformed() + c.drop_unknown_port() + c.drop_ssrc_mismatch() + c.drop_source_mismatch() +
         c.drop_auth_failed() + c.drop_replayed() + c.drop_too_old() + c.drop_unknown_mki() + c.drop_key_expired() +
         c.drop_not_sending();
}

std::string now_text() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
  return text;
}

std::string frame(const std::string& server, const mp::v1::AuditResponse& audit, const mp::v1::GetStatsResponse& stats,
                  std::map<std::uint32_t, std::uint64_t>& previous_drops) {
  std::string out = "mrfpctl top  " + server + "  " + now_text() + "\n";
  out += "workers:";
  for (const auto& worker : stats.workers()) {
    char cell[48];
    std::snprintf(cell, sizeof cell, "  #%u %3.0f%% overruns %llu", worker.worker(), worker.load() * 100,
                  static_cast<unsigned long long>(worker.counters().tick_overruns()));
    out += cell;
  }
  out += "\n\n";

  std::map<std::uint32_t, const mp::v1::ConferenceStats*> stats_by_conference;
  for (const auto& conference : stats.conferences()) stats_by_conference[conference.conference_id()] = &conference;

  char line[256];
  std::snprintf(line, sizeof line, "%-6s %-6s %-20s %12s %12s %10s %8s\n", "CONF", "PARTS", "SPEAKERS", "RX PKTS",
                "TX PKTS", "DROPS", "+DROPS");
  out += line;
  for (const auto& conference : audit.conferences()) {
    std::string speakers;
    for (const auto& participant : conference.participants()) {
      if (participant.speaking()) speakers += (speakers.empty() ? "" : ",") + std::to_string(participant.participant_id());
    }
    const auto found = stats_by_conference.find(conference.conference_id());
    const mp::v1::Counters counters = found != stats_by_conference.end() ? found->second->counters() : mp::v1::Counters();
    const std::uint64_t drops = drops_of(counters);
    const std::uint64_t previous = previous_drops.count(conference.conference_id()) ? previous_drops[conference.conference_id()] : drops;
    previous_drops[conference.conference_id()] = drops;
    std::snprintf(line, sizeof line, "%-6u %-6d %-20s %12llu %12llu %10llu %8llu\n", conference.conference_id(),
                  conference.participants_size(), speakers.empty() ? "-" : speakers.c_str(),
                  static_cast<unsigned long long>(counters.rx_packets()),
                  static_cast<unsigned long long>(counters.tx_packets()), static_cast<unsigned long long>(drops),
                  static_cast<unsigned long long>(drops - previous));
    out += line;

    std::map<std::uint32_t, const mp::v1::ParticipantStats*> participant_stats;
    if (found != stats_by_conference.end()) {
      for (const auto& participant : found->second->participants()) participant_stats[participant.participant_id()] = &participant;
    }
    for (const auto& participant : conference.participants()) {
      const auto ps = participant_stats.find(participant.participant_id());
      const mp::v1::ParticipantStats quality = ps != participant_stats.end() ? *ps->second : mp::v1::ParticipantStats();
      std::snprintf(line, sizeof line, "  %-4u %-5s %-10s %-9s %s%s%s %10llu rx %6llu drop  jit %5.1f ms  rtt %5.1f ms  lost %4.1f%%\n",
                    participant.participant_id(), mp::v1::Codec_Name(participant.codec()).substr(6).c_str(),
                    participant.has_ssrc() ? hex_ssrc(participant.ssrc()).c_str() : "latching",
                    mp::v1::Direction_Name(participant.direction()).c_str(), participant.speaking() ? "S" : "-",
                    participant.mute() ? "M" : "-", participant.hold() ? "H" : "-",
                    static_cast<unsigned long long>(quality.counters().rx_packets()),
                    static_cast<unsigned long long>(drops_of(quality.counters())), quality.jitter_ms(),
                    quality.round_trip_ms(), quality.fraction_lost() * 100);
      out += line;
    }
  }
  if (audit.conferences().empty()) out += "(no conferences)\n";
  return out;
}

}  // namespace

int run_top(const Connection& connection, double interval_seconds, unsigned refreshes) {
  auto stub = connection.stub();
  const bool terminal = isatty(STDOUT_FILENO) == 1;
  std::map<std::uint32_t, std::uint64_t> previous_drops;
  for (unsigned shown = 0; refreshes == 0 || shown < refreshes; ++shown) {
    if (shown != 0) std::this_thread::sleep_for(std::chrono::duration<double>(interval_seconds));
    mp::v1::AuditResponse audit;
    auto status = stub->Audit(connection.context().get(), mp::v1::AuditRequest(), &audit);
    if (!status.ok()) return report_rpc_error(status);
    mp::v1::GetStatsResponse stats;
    status = stub->GetStats(connection.context().get(), mp::v1::GetStatsRequest(), &stats);
    if (!status.ok()) return report_rpc_error(status);
    if (connection.json) {
      std::cout << "{\"audit\":" << to_json(audit, true) << ",\"stats\":" << to_json(stats, true) << "}\n" << std::flush;
      continue;
    }
    std::cout << (terminal ? "\x1b[H\x1b[2J" : (shown != 0 ? "\n" : "")) << frame(connection.server, audit, stats, previous_drops)
              << std::flush;
  }
  return 0;
}

}  // namespace mrfp::control::cli
