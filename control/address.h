// Endpoints between their socket form (dataplane) and text host + port (Mp API).
// Kept here rather than calling Endpoint::parse so the control library needs
// only the dataplane's headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/controller.h"

namespace mrfp::control {

// An IPv4 or IPv6 literal (no names: the MRFC hands us SDP addresses).
std::optional<dataplane::Endpoint> endpoint_from_text(const std::string& host, std::uint16_t port);

struct HostPort {
  std::string host;  // empty when the family is neither IPv4 nor IPv6
  std::uint16_t port = 0;
};
HostPort host_port_of(const dataplane::Endpoint& endpoint);

}  // namespace mrfp::control
