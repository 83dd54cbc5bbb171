// GET /metrics over HTTP (civetweb) for Prometheus.
#pragma once

#include <memory>
#include <string>

#include "control/metrics_text.h"
#include "dataplane/controller.h"

struct mg_context;
struct mg_connection;

namespace mrfp::control {

struct MetricsServerOptions {
  // civetweb listening_ports syntax: host:port; port 0 picks a free one.
  std::string listen_address = "127.0.0.1:9464";
  MetricsOptions metrics;
};

class MetricsServer {
 public:
  MetricsServer(dataplane::Controller& controller, MetricsOptions options);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  void shutdown();  // idempotent

 private:
  friend dataplane::Result<std::unique_ptr<MetricsServer>> run_metrics_server(dataplane::Controller&,
                                                                             const MetricsServerOptions&);
  static int handle_metrics(::mg_connection* connection, void* self);

  dataplane::Controller& controller_;
  MetricsOptions options_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

dataplane::Result<std::unique_ptr<MetricsServer>> run_metrics_server(dataplane::Controller& controller,
                                                                     const MetricsServerOptions& options);

}  // namespace mrfp::control
