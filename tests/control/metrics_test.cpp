// /metrics: served over loopback HTTP by civetweb, in a Prometheus text format
// that this test parses line by line.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>

#include "control/metrics_server.h"
#include "fake_controller.h"

namespace mrfp::control::testing {
namespace {

std::string http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return {};
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  return response;
}

// sample name{labels} -> value, after checking every line is a comment or a valid sample.
std::map<std::string, double> parse_exposition(const std::string& text) {
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (\S+)$)");
  static const std::regex kComment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, kComment)) continue;
    EXPECT_TRUE(std::regex_match(line, match, kSample)) << "not a sample: " << line;
    if (match.empty()) continue;
    samples[match[1].str() + match[2].str()] = std::stod(match[4].str());
  }
  return samples;
}

std::shared_ptr<FakeController> controller_with_a_conference() {
  auto fake = std::make_shared<FakeController>();
  dataplane::ConferenceSpec spec;
  spec.codecs = {mixer::Codec::Pcmu};
  auto conference = fake->create_conference(spec);
  dataplane::ParticipantSpec participant;
  participant.conference = conference->id;
  fake->add_participant(participant);
  fake->add_participant(participant);
  return fake;
}

TEST(MetricsServerTest, ServesParseablePrometheusText) {
  auto fake = controller_with_a_conference();
  MetricsServerOptions options;
  options.listen_address = "127.0.0.1:0";
  auto server = run_metrics_server(*fake, options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  ASSERT_GT(server.value()->port(), 0);

  const std::string response = http_get(server.value()->port(), "/metrics");
  ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  const std::string body = response.substr(response.find("\r\n\r\n") + 4);

  const auto samples = parse_exposition(body);
  EXPECT_EQ(samples.at("mrfp_up"), 1);
  EXPECT_EQ(samples.at("mrfp_conferences"), 1);
  EXPECT_EQ(samples.at("mrfp_conference_participants{conference=\"1\"}"), 2);
  EXPECT_EQ(samples.at("mrfp_conference_rx_packets_total{conference=\"1\"}"), 200);
  EXPECT_EQ(samples.at("mrfp_conference_drop_auth_failed_total{conference=\"1\"}"), 7);
  EXPECT_EQ(samples.at("mrfp_conference_ticks_total{conference=\"1\"}"), 500);
  EXPECT_EQ(samples.at("mrfp_worker_load{worker=\"1\"}"), 0.5);
  EXPECT_EQ(samples.at("mrfp_io_tx_refused_total{worker=\"0\"}"), 4);
  EXPECT_EQ(samples.at("mrfp_worker_tick_overruns_total{worker=\"0\"}"), 3);
  EXPECT_EQ(samples.at("mrfp_worker_receive_gaps_over_frame_total{worker=\"0\"}"), 2);
  EXPECT_EQ(samples.at("mrfp_worker_longest_receive_gap_ms{worker=\"0\"}"), 42.5);
  for (const auto& [name, value] : samples) {
    EXPECT_EQ(name.find("participant="), std::string::npos) << "per-participant series off by default: " << name;
  }

  EXPECT_EQ(http_get(server.value()->port(), "/other").rfind("HTTP/1.1 404", 0), 0u);
  server.value()->shutdown();
}

TEST(MetricsTextTest, PerParticipantSeriesOnRequest) {
  auto fake = controller_with_a_conference();
  const auto samples = parse_exposition(render_prometheus_metrics(*fake, {.per_participant_labels = true}));
  EXPECT_EQ(samples.at("mrfp_participant_jitter_ms{conference=\"1\",participant=\"2\"}"), 1.5);
  EXPECT_EQ(samples.at("mrfp_participant_fraction_lost{conference=\"1\",participant=\"1\"}"), 0.25);
  EXPECT_EQ(samples.at("mrfp_participant_drop_replayed_total{conference=\"1\",participant=\"1\"}"), 2);
}

}  // namespace
}  // namespace mrfp::control::testing
