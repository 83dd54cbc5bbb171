// What mrfpctl prints: --json gives the reply as proto3 JSON (field names as in
// mp.proto, defaults included); otherwise a short human summary.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "mp.pb.h"

namespace mrfp::control::cli {

// One JSON document; `one_line` for streams (one event per line).
std::string to_json(const google::protobuf::Message& message, bool one_line = false);

std::string hex_ssrc(std::uint32_t ssrc);
std::string describe(const mp::v1::Address& address);

std::string describe(const mp::v1::CreateConferenceResponse& reply);
std::string describe(const mp::v1::AddParticipantResponse& reply);
std::string describe(const mp::v1::RekeyResponse& reply);
std::string describe(const mp::v1::AuditResponse& reply);
std::string describe(const mp::v1::GetStatsResponse& reply);
std::string describe(const mp::v1::Event& event);

}  // namespace mrfp::control::cli
