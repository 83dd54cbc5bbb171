// Dataplane results to gRPC statuses. The dataplane's ErrorCodes are the gRPC
// canonical codes by design, so this is one switch.
#pragma once

#include <grpcpp/support/status.h>

#include "dataplane/result.h"

namespace mrfp::control {

grpc::StatusCode to_grpc_code(dataplane::ErrorCode code);

inline grpc::Status to_grpc_status(const dataplane::Error& error) {
  return grpc::Status(to_grpc_code(error.code), error.message);
}

inline dataplane::Error invalid_argument(std::string message) {
  return dataplane::Error{dataplane::ErrorCode::InvalidArgument, std::move(message)};
}

}  // namespace mrfp::control
