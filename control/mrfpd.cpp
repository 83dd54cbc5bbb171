// mrfpd: the MRFP daemon. Starts the dataplane workers, the Mp control server
// and optionally the /metrics endpoint; on SIGTERM or SIGINT it stops taking
// commands, sends BYE on every stream and exits 0.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>

#include "control/control_server.h"
#include "control/metrics_server.h"
#include "dataplane/dataplane.h"
#include "dataplane/dpdk/dpdk_port.h"

namespace {

struct PortRange {
  std::uint16_t first = 20000, last = 29999;
};

std::optional<PortRange> parse_port_range(const std::string& text) {
  const auto dash = text.find('-');
  if (dash == std::string::npos) return std::nullopt;
  unsigned first = 0, last = 0;
  auto a = std::from_chars(text.data(), text.data() + dash, first);
  auto b = std::from_chars(text.data() + dash + 1, text.data() + text.size(), last);
  if (a.ec != std::errc{} || b.ec != std::errc{} || first == 0 || last > 65535 || first > last) return std::nullopt;
  return PortRange{static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mrfpd: conference media mixer (IMS MRFP) with encrypt-once SRTP"};
  mrfp::dataplane::DataplaneOptions dataplane_options;
  mrfp::control::ControlServerOptions control_options;
  std::string port_range = "20000-29999";
  std::string srtp_engine = "ipsec-mb";
  std::string tls_cert, tls_key, tls_ca;
  std::string metrics_listen;
  std::string log_level = "info";
  unsigned rekey_grace_ms = 2000;
  app.set_config("--config", "", "read flags from a TOML/INI file (same names as the flags)");
  app.add_option("--media-address", dataplane_options.media_address, "local IP address participants send to")
      ->capture_default_str();
  app.add_option("--port-range", port_range, "local UDP ports for participants, FIRST-LAST")->capture_default_str();
  app.add_option("--workers", dataplane_options.workers, "dataplane worker threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  app.add_option("--max-participants", dataplane_options.max_participants_per_conference,
                 "participants one conference can hold (sizes its tables when it is created)")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  app.add_option("--rekey-grace-ms", rekey_grace_ms, "how long inbound accepts the previous key after a rekey")
      ->check(CLI::Range(0u, 600000u))
      ->capture_default_str();
  app.add_option("--srtp-engine", srtp_engine, "SRTP engine: ipsec-mb or libsrtp")
      ->check(CLI::IsMember({"ipsec-mb", "libsrtp"}))
      ->capture_default_str();
  app.add_option("--control-listen", control_options.listen_address, "Mp gRPC endpoint (loopback by default)")
      ->capture_default_str();
  app.add_option("--tls-cert", tls_cert, "server certificate (PEM); with --tls-key and --tls-ca: mutual TLS");
  app.add_option("--tls-key", tls_key, "server private key (PEM)");
  app.add_option("--tls-ca", tls_ca, "CA that signs client certificates (PEM)");
  app.add_flag("--allow-plaintext-off-loopback", control_options.allow_plaintext_off_loopback,
               "serve the control API without TLS on a non-loopback address");
  app.add_option("--metrics-listen", metrics_listen, "serve Prometheus /metrics on HOST:PORT");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  bool use_dpdk = false;
  std::vector<std::string> eal_args;
  mrfp::dataplane::DpdkPortConfig dpdk_port;
  app.add_flag("--dpdk", use_dpdk, "DPDK ethdev backend instead of kernel sockets; EAL arguments after --");
  app.add_option("--dpdk-device", dpdk_port.device, "ethdev name (net_ring0, net_tap0, 0000:03:00.0); default port 0");
  app.add_option("--dpdk-gateway", dpdk_port.ipv4_gateway, "next hop for off-link participants (resolved by ARP)");
  app.add_option("--dpdk-prefix-length", dpdk_port.ipv4_prefix_length, "prefix length of --media-address")
      ->capture_default_str();
  app.add_option("--dpdk-tx-backlog", dpdk_port.tx_backlog,
                 "frames per worker a full TX ring refused, kept and sent in order before newer ones "
                 "(the mbuf pools grow by as many; 0: drop them)")
      ->capture_default_str();
  app.add_option("--dpdk-idle-sleep-us", dpdk_port.idle_sleep_us,
                 "sleep when a poll finds nothing (0: pure polling on a dedicated core)")
      ->capture_default_str();
  app.add_option("--dpdk-replication", dpdk_port.replication,
                 "how one output frame reaches its listeners: auto (chained when the PMD takes "
                 "multi-segment frames), chained (a header mbuf per listener on the shared payload), "
                 "copied (one flat frame per listener)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, mrfp::dataplane::ReplicationMode>{
                      {"auto", mrfp::dataplane::ReplicationMode::Auto},
                      {"chained", mrfp::dataplane::ReplicationMode::Chained},
                      {"copied", mrfp::dataplane::ReplicationMode::Copied}},
                  CLI::ignore_case))
      ->default_str("auto");
  app.add_option("eal", eal_args, "EAL arguments (after --), with --dpdk");
  CLI11_PARSE(app, argc, argv);
  if (!eal_args.empty() && !use_dpdk) {
    spdlog::error("EAL arguments given without --dpdk");
    return 2;
  }

  spdlog::set_level(spdlog::level::from_str(log_level));
  const auto ports = parse_port_range(port_range);
  if (!ports) {
    spdlog::error("--port-range must be FIRST-LAST within 1-65535, got '{}'", port_range);
    return 2;
  }
  dataplane_options.port_min = ports->first;
  dataplane_options.port_max = ports->last;
  dataplane_options.rekey_grace = std::chrono::milliseconds(rekey_grace_ms);
  dataplane_options.srtp_engine =
      srtp_engine == "libsrtp" ? mrfp::dataplane::SrtpEngineKind::Libsrtp : mrfp::dataplane::SrtpEngineKind::IpsecMb;
  const int tls_given = !tls_cert.empty() + !tls_key.empty() + !tls_ca.empty();
  if (tls_given != 0 && tls_given != 3) {
    spdlog::error("mutual TLS needs all of --tls-cert, --tls-key and --tls-ca");
    return 2;
  }
  if (tls_given == 3) control_options.tls = mrfp::control::TlsFiles{tls_cert, tls_key, tls_ca};

  // Signals are taken by a dedicated thread (sigwait) rather than a handler, so
  // shutdown runs ordinary code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (use_dpdk) {
    // The media address is the port's own: ARP (IPv4) or neighbour discovery (IPv6) answers for it.
    if (dataplane_options.media_address.find(':') != std::string::npos) {
      dpdk_port.ipv6_address = dataplane_options.media_address;
    } else {
      dpdk_port.ipv4_address = dataplane_options.media_address;
    }
    auto factory = mrfp::dataplane::make_dpdk_backend_factory(eal_args, dpdk_port, dataplane_options.workers);
    if (!factory) {
      spdlog::error("DPDK backend: {}", factory.error().message);
      return 1;
    }
    dataplane_options.backend_factory = std::move(factory.value());
  }

  std::unique_ptr<mrfp::dataplane::Dataplane> dataplane;
  try {
    dataplane = std::make_unique<mrfp::dataplane::Dataplane>(dataplane_options);
    dataplane->start();
  } catch (const std::exception& error) {
    spdlog::error("dataplane failed to start: {}", error.what());
    return 1;
  }
  auto control = mrfp::control::run_control_server(*dataplane, control_options);
  if (!control) {
    spdlog::error("control server failed to start: {}", control.error().message);
    return 1;
  }
  std::unique_ptr<mrfp::control::MetricsServer> metrics;
  if (!metrics_listen.empty()) {
    auto started = mrfp::control::run_metrics_server(*dataplane, {.listen_address = metrics_listen, .metrics = {}});
    if (!started) {
      spdlog::error("metrics server failed to start: {}", started.error().message);
      return 1;
    }
    metrics = std::move(started.value());
    spdlog::info("metrics on port {}", metrics->port());
  }
  spdlog::info("mrfpd ready: control on port {} ({}), media {} ports {}-{} on {}, {} worker(s), SRTP engine {}",
               control.value()->port(), control_options.tls ? "mutual TLS" : "plaintext",
               dataplane_options.media_address, ports->first, ports->last, use_dpdk ? "DPDK" : "kernel sockets",
               dataplane_options.workers, srtp_engine);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("signal {}: stopping", signal_number);
  control.value()->shutdown();  // no new commands
  if (metrics) metrics->shutdown();
  dataplane->stop();            // BYE on every stream
  spdlog::info("mrfpd stopped");
  return EXIT_SUCCESS;
}
