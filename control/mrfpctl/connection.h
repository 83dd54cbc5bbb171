// How mrfpctl reaches the server: address, optional mutual TLS, deadline, output style.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "mp.grpc.pb.h"

namespace mrfp::control::cli {

struct Connection {
  std::string server = "127.0.0.1:50051";
  std::string tls_cert, tls_key, tls_ca;  // all three, or none for plaintext
  int timeout_seconds = 10;
  bool json = false;

  // Throws std::runtime_error naming the TLS file that cannot be used.
  std::unique_ptr<mp::v1::Mp::Stub> stub() const;
  // A context with this connection's deadline.
  std::unique_ptr<grpc::ClientContext> context() const;
};

// Prints "error: CODE: message" on stderr; returns the process exit code (1).
int report_rpc_error(const grpc::Status& status);

}  // namespace mrfp::control::cli
