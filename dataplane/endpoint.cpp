#include <arpa/inet.h>

#include <cstring>

#include "dataplane/controller.h"

namespace mrfp::dataplane {

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return "unset";
}

std::optional<Endpoint> Endpoint::parse(const std::string& host, std::uint16_t port) {
  Endpoint endpoint;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return endpoint;
  }
  endpoint = Endpoint{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return endpoint;
  }
  return std::nullopt;
}

}  // namespace mrfp::dataplane

namespace mrfp::dataplane {

void add_counters(Counters& into, const Counters& from) {
  into.rx_packets += from.rx_packets;
  into.rx_bytes += from.rx_bytes;
  into.tx_packets += from.tx_packets;
  into.tx_bytes += from.tx_bytes;
  into.drop_malformed += from.drop_malformed;
  into.drop_unknown_port += from.drop_unknown_port;
  into.drop_ssrc_mismatch += from.drop_ssrc_mismatch;
  into.drop_source_mismatch += from.drop_source_mismatch;
  into.drop_auth_failed += from.drop_auth_failed;
  into.drop_replayed += from.drop_replayed;
  into.drop_too_old += from.drop_too_old;
  into.drop_unknown_mki += from.drop_unknown_mki;
  into.drop_key_expired += from.drop_key_expired;
  into.drop_not_sending += from.drop_not_sending;
  into.jitter_late += from.jitter_late;
  into.jitter_lost += from.jitter_lost;
  into.concealed += from.concealed;
  into.ticks += from.ticks;
  into.tick_overruns += from.tick_overruns;
  into.rtcp_rx += from.rtcp_rx;
  into.rtcp_tx += from.rtcp_tx;
  into.ssrc_rotations += from.ssrc_rotations;
  into.tx_dropped += from.tx_dropped;
}

}  // namespace mrfp::dataplane
