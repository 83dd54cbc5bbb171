#include "control/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace mrfp::control {

std::optional<dataplane::Endpoint> endpoint_from_text(const std::string& host, std::uint16_t port) {
  dataplane::Endpoint endpoint;
  sockaddr_in v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&endpoint.address, &v4, sizeof v4);
    return endpoint;
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&endpoint.address, &v6, sizeof v6);
    return endpoint;
  }
  return std::nullopt;
}

HostPort host_port_of(const dataplane::Endpoint& endpoint) {
  char text[INET6_ADDRSTRLEN] = {};
  if (endpoint.address.ss_family == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, &endpoint.address, sizeof v4);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return {text, ntohs(v4.sin_port)};
  }
  if (endpoint.address.ss_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, &endpoint.address, sizeof v6);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    return {text, ntohs(v6.sin6_port)};
  }
  return {};
}

}  // namespace mrfp::control
