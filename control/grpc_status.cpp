#include "control/grpc_status.h"

namespace mrfp::control {

grpc::StatusCode to_grpc_code(dataplane::ErrorCode code) {
  switch (code) {
    case dataplane::ErrorCode::InvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case dataplane::ErrorCode::NotFound: return grpc::StatusCode::NOT_FOUND;
    case dataplane::ErrorCode::AlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case dataplane::ErrorCode::ResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case dataplane::ErrorCode::FailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case dataplane::ErrorCode::Unavailable: return grpc::StatusCode::UNAVAILABLE;
    case dataplane::ErrorCode::Internal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

}  // namespace mrfp::control
