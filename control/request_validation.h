// Stateless validation of Mp requests, and their translation into dataplane
// specs. Every rejection is INVALID_ARGUMENT with a message that starts with the
// field's path ("group_key.master_key: ...") and says what is wrong. Stateful
// rules (SSRC uniqueness, ports, unknown ids) are the dataplane's.
#pragma once

#include <string_view>

#include "dataplane/controller.h"
#include "mp.pb.h"

namespace mrfp::control {

// Limits of the API, each with the reason it exists.
inline constexpr std::uint32_t kDefaultFrameMs = 20;
inline constexpr std::uint32_t kDefaultSpeakers = 3;
// The CSRC count of an RTP header is 4 bits (RFC 3550 §5.1): at most 15 contributors can be named.
inline constexpr std::uint32_t kMaxSpeakers = 15;
inline constexpr std::uint32_t kDefaultOpusBitrate = 32000;
inline constexpr std::uint32_t kMinOpusBitrate = 6000;    // RFC 7587 §3.1.1
inline constexpr std::uint32_t kMaxOpusBitrate = 510000;  // RFC 7587 §3.1.1
inline constexpr std::uint32_t kDefaultOpusComplexity = 5;
inline constexpr std::uint32_t kMaxOpusComplexity = 10;
// One-byte RTP header extension ids (RFC 8285 §4.2): 1-14; 15 is reserved.
inline constexpr std::uint32_t kMaxOneByteExtensionId = 14;
inline constexpr std::uint32_t kFirstDynamicPayloadType = 96;  // RFC 3551 §3
inline constexpr std::uint32_t kMaxPayloadType = 127;

dataplane::Result<srtp::MasterKey> master_key_from(const mp::v1::SrtpKey& key, std::string_view field);
dataplane::Result<dataplane::Endpoint> endpoint_from(const mp::v1::Address& address, std::string_view field);

dataplane::Result<dataplane::ConferenceSpec> conference_spec_from(const mp::v1::CreateConferenceRequest& request);
dataplane::Result<dataplane::ParticipantSpec> participant_spec_from(const mp::v1::AddParticipantRequest& request);
dataplane::Result<dataplane::ParticipantChange> participant_change_from(
    const mp::v1::ModifyParticipantRequest& request);

}  // namespace mrfp::control
