#include "control/control_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "control/mp_service.h"

namespace mrfp::control {

ControlServer::ControlServer(std::unique_ptr<MpService> service, std::unique_ptr<grpc::Server> server, int port)
    : service_(std::move(service)), server_(std::move(server)), port_(port) {}

ControlServer::~ControlServer() { shutdown(); }

void ControlServer::shutdown() {
  if (shut_down_.exchange(true)) return;
  service_->end_streams();
  // After the deadline, calls still running are cancelled.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
}

void ControlServer::wait() { server_->Wait(); }

bool is_loopback_listen_address(const std::string& listen_address) {
  return listen_address.starts_with("127.") || listen_address.starts_with("[::1]:") ||
         listen_address.starts_with("localhost:") || listen_address.starts_with("unix:");
}

dataplane::Result<std::unique_ptr<ControlServer>> run_control_server(dataplane::Controller& controller,
                                                                     const ControlServerOptions& options) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options.tls) {
    auto tls = mutual_tls_server_credentials(*options.tls);
    if (!tls) return tls.error();
    credentials = tls.value();
  } else {
    if (!options.allow_plaintext_off_loopback && !is_loopback_listen_address(options.listen_address)) {
      return dataplane::Error{dataplane::ErrorCode::FailedPrecondition,
                              "listen address " + options.listen_address +
                                  " is not loopback: give TLS files (keys cross this interface) or allow plaintext "
                                  "explicitly"};
    }
    credentials = grpc::InsecureServerCredentials();
  }

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto service = std::make_unique<MpService>(controller);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, credentials, &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return dataplane::Error{dataplane::ErrorCode::Unavailable, "cannot listen on " + options.listen_address};
  }
  spdlog::info("Mp control API on {} (port {}, {})", options.listen_address, port,
               options.tls ? "mutual TLS" : "plaintext");
  return std::make_unique<ControlServer>(std::move(service), std::move(server), port);
}

}  // namespace mrfp::control
