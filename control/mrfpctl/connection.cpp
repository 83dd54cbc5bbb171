#include "control/mrfpctl/connection.h"

#include <grpcpp/create_channel.h>

#include <iostream>
#include <stdexcept>

#include "control/tls_options.h"

namespace mrfp::control::cli {

std::unique_ptr<mp::v1::Mp::Stub> Connection::stub() const {
  const bool any_tls = !tls_cert.empty() || !tls_key.empty() || !tls_ca.empty();
  if (!any_tls) return mp::v1::Mp::NewStub(grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  if (tls_cert.empty() || tls_key.empty() || tls_ca.empty()) {
    throw std::runtime_error("mutual TLS needs --tls-cert, --tls-key and --tls-ca together");
  }
  auto credentials = mutual_tls_channel_credentials({tls_cert, tls_key, tls_ca});
  if (!credentials) throw std::runtime_error(credentials.error().message);
  return mp::v1::Mp::NewStub(grpc::CreateChannel(server, credentials.value()));
}

std::unique_ptr<grpc::ClientContext> Connection::context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  return context;
}

namespace {
const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "ERROR";
  }
}
}  // namespace

int report_rpc_error(const grpc::Status& status) {
  std::cerr << "error: " << code_name(status.error_code()) << ": " << status.error_message() << "\n";
  return 1;
}

}  // namespace mrfp::control::cli
