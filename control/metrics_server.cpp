#include "control/metrics_server.h"

#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace mrfp::control {

MetricsServer::MetricsServer(dataplane::Controller& controller, MetricsOptions options)
    : controller_(controller), options_(options) {}

MetricsServer::~MetricsServer() { shutdown(); }

void MetricsServer::shutdown() {
  if (context_ == nullptr) return;
  mg_stop(context_);
  context_ = nullptr;
}

int MetricsServer::handle_metrics(mg_connection* connection, void* self) {
  const mg_request_info* request = mg_get_request_info(connection);
  if (std::string_view(request->request_method) != "GET") {
    mg_send_http_error(connection, 405, "only GET");
    return 405;
  }
  auto& server = *static_cast<MetricsServer*>(self);
  const std::string body = render_prometheus_metrics(server.controller_, server.options_);
  mg_printf(connection,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            body.size());
  mg_write(connection, body.data(), body.size());
  return 200;
}

dataplane::Result<std::unique_ptr<MetricsServer>> run_metrics_server(dataplane::Controller& controller,
                                                                     const MetricsServerOptions& options) {
  static std::once_flag library_initialised;
  std::call_once(library_initialised, [] { mg_init_library(0); });

  auto server = std::make_unique<MetricsServer>(controller, options.metrics);
  const char* civetweb_options[] = {"listening_ports", options.listen_address.c_str(), "num_threads", "2", nullptr};
  mg_callbacks callbacks{};
  server->context_ = mg_start(&callbacks, nullptr, civetweb_options);
  if (server->context_ == nullptr) {
    return dataplane::Error{dataplane::ErrorCode::Unavailable, "metrics: cannot listen on " + options.listen_address};
  }
  mg_set_request_handler(server->context_, "/metrics$", &MetricsServer::handle_metrics, server.get());
  mg_server_port ports[1]{};
  if (mg_get_server_ports(server->context_, 1, ports) < 1) {
    return dataplane::Error{dataplane::ErrorCode::Internal, "metrics: no listening port"};
  }
  server->port_ = ports[0].port;
  spdlog::info("metrics on http://{}/metrics (port {})", options.listen_address, server->port_);
  return server;
}

}  // namespace mrfp::control
