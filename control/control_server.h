// Starting and stopping the Mp gRPC server; what mrfpd calls.
//
//   auto server = mrfp::control::run_control_server(controller, options);
//   if (!server) { /* server.error().message says why */ }
//   ...
//   server.value()->shutdown();
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "control/tls_options.h"
#include "dataplane/controller.h"

namespace grpc {
class Server;
}

namespace mrfp::control {

class MpService;

struct ControlServerOptions {
  // host:port; port 0 picks a free one (see ControlServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // Present: mutual TLS is required and no plaintext is served.
  std::optional<TlsFiles> tls;
  // Keys cross this interface: plaintext is refused on anything but loopback
  // unless the operator says so explicitly (e.g. a private lab network).
  bool allow_plaintext_off_loopback = false;
};

class ControlServer {
 public:
  ControlServer(std::unique_ptr<MpService> service, std::unique_ptr<grpc::Server> server, int port);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int port() const { return port_; }
  // Ends event streams, lets running calls finish (at most ~1 s), stops listening.
  // Idempotent; safe from any thread (a signal thread, the destructor).
  void shutdown();
  // Blocks until shutdown() is called from another thread.
  void wait();

 private:
  std::unique_ptr<MpService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::atomic<bool> shut_down_{false};
};

// True for 127.0.0.0/8, [::1] and localhost listen addresses.
bool is_loopback_listen_address(const std::string& listen_address);

dataplane::Result<std::unique_ptr<ControlServer>> run_control_server(dataplane::Controller& controller,
                                                                     const ControlServerOptions& options);

}  // namespace mrfp::control
