#include "control/request_validation.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "control/address.h"
#include "control/enum_conversion.h"
#include "control/grpc_status.h"

namespace mrfp::control {
namespace {

std::string field_path(std::string_view parent, std::string_view child) {
  std::string path(parent);
  path += '.';
  path += child;
  return path;
}

dataplane::Error invalid(std::string_view field, const std::string& what) {
  return invalid_argument(std::string(field) + ": " + what);
}

// An RTP header extension id: 0 (off) or a one-byte-header id (RFC 8285 §4.2).
std::optional<dataplane::Error> check_extension_id(std::uint32_t id, std::string_view field) {
  if (id <= kMaxOneByteExtensionId) return std::nullopt;
  return invalid(field, std::to_string(id) + " is not a one-byte extension id 1-14 (0: off)");
}

// PCMU and PCMA have static payload types (RFC 3551 §6); Opus has none (RFC 7587 §7).
std::optional<dataplane::Error> check_payload_type(mixer::Codec codec, std::uint32_t payload_type) {
  constexpr std::string_view field = "payload_type";
  if (payload_type > kMaxPayloadType) {
    return invalid(field, std::to_string(payload_type) + " is outside 0-127");
  }
  switch (codec) {
    case mixer::Codec::Pcmu:
      if (payload_type != 0) return invalid(field, std::to_string(payload_type) + " but PCMU is static payload type 0");
      break;
    case mixer::Codec::Pcma:
      if (payload_type != 8) return invalid(field, std::to_string(payload_type) + " but PCMA is static payload type 8");
      break;
    case mixer::Codec::Opus:
      if (payload_type < kFirstDynamicPayloadType) {
        return invalid(field, std::to_string(payload_type) + " but opus needs a dynamic payload type 96-127");
      }
      break;
  }
  return std::nullopt;
}

}  // namespace

dataplane::Result<srtp::MasterKey> master_key_from(const mp::v1::SrtpKey& key, std::string_view field) {
  const auto suite = suite_from(key.suite());
  if (!suite) {
    return invalid(field_path(field, "suite"),
                   key.suite() == mp::v1::SRTP_SUITE_UNSPECIFIED ? std::string("required")
                                                                 : "unknown suite " + std::to_string(key.suite()));
  }
  const srtp::SuiteParams needs = srtp::params(*suite);
  const std::string suite_name(srtp::name(*suite));
  if (key.master_key().size() != needs.master_key_len) {
    return invalid(field_path(field, "master_key"), std::to_string(key.master_key().size()) + " bytes, " +
                                                        suite_name + " needs " + std::to_string(needs.master_key_len));
  }
  if (key.master_salt().size() != needs.master_salt_len) {
    return invalid(field_path(field, "master_salt"), std::to_string(key.master_salt().size()) + " bytes, " +
                                                         suite_name + " needs " +
                                                         std::to_string(needs.master_salt_len));
  }
  if (key.mki().size() > srtp::kMaxMkiLen) {
    return invalid(field_path(field, "mki"),
                   std::to_string(key.mki().size()) + " bytes, at most " + std::to_string(srtp::kMaxMkiLen));
  }
  srtp::MasterKey master;
  master.suite = *suite;
  std::memcpy(master.key.data(), key.master_key().data(), key.master_key().size());
  std::memcpy(master.salt.data(), key.master_salt().data(), key.master_salt().size());
  std::memcpy(master.mki.data(), key.mki().data(), key.mki().size());
  master.key_len = static_cast<std::uint8_t>(key.master_key().size());
  master.salt_len = static_cast<std::uint8_t>(key.master_salt().size());
  master.mki_len = static_cast<std::uint8_t>(key.mki().size());
  return master;
}

dataplane::Result<dataplane::Endpoint> endpoint_from(const mp::v1::Address& address, std::string_view field) {
  if (address.port() == 0 || address.port() > 65535) {
    return invalid(field_path(field, "port"), std::to_string(address.port()) + " is outside 1-65535");
  }
  auto endpoint = endpoint_from_text(address.host(), static_cast<std::uint16_t>(address.port()));
  if (!endpoint) {
    return invalid(field_path(field, "host"), "'" + address.host() + "' is not an IPv4 or IPv6 address");
  }
  return *endpoint;
}

dataplane::Result<dataplane::ConferenceSpec> conference_spec_from(const mp::v1::CreateConferenceRequest& request) {
  dataplane::ConferenceSpec spec;
  if (request.codecs().empty()) return invalid("codecs", "at least one codec is required");
  for (int codec_number : request.codecs()) {
    const auto codec = codec_from(codec_number);
    if (!codec) return invalid("codecs", "unknown codec " + std::to_string(codec_number));
    if (std::find(spec.codecs.begin(), spec.codecs.end(), *codec) != spec.codecs.end()) {
      return invalid("codecs", std::string(mixer::name(*codec)) + " listed twice");
    }
    spec.codecs.push_back(*codec);
  }

  spec.frame_ms = request.frame_ms() == 0 ? kDefaultFrameMs : request.frame_ms();
  constexpr std::uint32_t kFrameSizes[] = {10, 20, 30, 40, 60};
  if (std::find(std::begin(kFrameSizes), std::end(kFrameSizes), spec.frame_ms) == std::end(kFrameSizes)) {
    return invalid("frame_ms", std::to_string(spec.frame_ms) + " is not one of 10, 20, 30, 40, 60");
  }

  spec.mix_rate_hz = request.mix_rate_hz();
  if (spec.mix_rate_hz != 0 && spec.mix_rate_hz != 8000 && spec.mix_rate_hz != 16000 && spec.mix_rate_hz != 48000) {
    return invalid("mix_rate_hz", std::to_string(spec.mix_rate_hz) + " is not one of 8000, 16000, 48000 (0: automatic)");
  }

  spec.speakers = request.has_speakers() ? request.speakers() : kDefaultSpeakers;
  if (spec.speakers > kMaxSpeakers) {
    return invalid("speakers", std::to_string(spec.speakers) + " is outside 0-15 (0: everybody)");
  }

  if (request.policy() != mp::v1::MIX_POLICY_UNSPECIFIED) {
    const auto policy = policy_from(request.policy());
    if (!policy) return invalid("policy", "unknown policy " + std::to_string(request.policy()));
    spec.policy = *policy;
  }

  spec.opus_bitrate = request.opus_bitrate() == 0 ? kDefaultOpusBitrate : request.opus_bitrate();
  if (spec.opus_bitrate < kMinOpusBitrate || spec.opus_bitrate > kMaxOpusBitrate) {
    return invalid("opus_bitrate", std::to_string(spec.opus_bitrate) + " is outside 6000-510000 bit/s");
  }
  spec.opus_complexity = request.has_opus_complexity() ? request.opus_complexity() : kDefaultOpusComplexity;
  if (spec.opus_complexity > kMaxOpusComplexity) {
    return invalid("opus_complexity", std::to_string(spec.opus_complexity) + " is outside 0-10");
  }

  if (auto error = check_extension_id(request.mixer_levels_ext_id(), "mixer_levels_ext_id")) return *error;
  spec.mixer_levels_ext_id = static_cast<std::uint8_t>(request.mixer_levels_ext_id());

  if (!request.has_group_key()) return invalid("group_key", "required (TR 33.829: the KMS-issued group key)");
  auto group_key = master_key_from(request.group_key(), "group_key");
  if (!group_key) return group_key.error();
  spec.group_key = group_key.value();
  return spec;
}

dataplane::Result<dataplane::ParticipantSpec> participant_spec_from(const mp::v1::AddParticipantRequest& request) {
  dataplane::ParticipantSpec spec;
  spec.conference = request.conference_id();

  const auto codec = codec_from(request.codec());
  if (!codec) {
    return invalid("codec", request.codec() == mp::v1::CODEC_UNSPECIFIED
                                ? std::string("required")
                                : "unknown codec " + std::to_string(request.codec()));
  }
  spec.codec = *codec;
  if (auto error = check_payload_type(*codec, request.payload_type())) return *error;
  spec.payload_type = static_cast<std::uint8_t>(request.payload_type());

  if (request.has_remote()) {
    auto remote = endpoint_from(request.remote(), "remote");
    if (!remote) return remote.error();
    spec.remote = remote.value();
  }
  if (request.has_ssrc()) spec.declared_ssrc = request.ssrc();

  if (request.direction() != mp::v1::DIRECTION_UNSPECIFIED) {
    const auto direction = direction_from(request.direction());
    if (!direction) return invalid("direction", "unknown direction " + std::to_string(request.direction()));
    spec.direction = *direction;
  }

  if (auto error = check_extension_id(request.audio_level_ext_id(), "audio_level_ext_id")) return *error;
  spec.audio_level_ext_id = static_cast<std::uint8_t>(request.audio_level_ext_id());

  if (request.has_own_key()) {
    auto own_key = master_key_from(request.own_key(), "own_key");
    if (!own_key) return own_key.error();
    spec.own_key = own_key.value();
  }
  return spec;
}

dataplane::Result<dataplane::ParticipantChange> participant_change_from(
    const mp::v1::ModifyParticipantRequest& request) {
  dataplane::ParticipantChange change;
  change.participant = request.participant_id();
  if (request.has_mute()) change.mute = request.mute();
  if (request.has_deaf()) change.deaf = request.deaf();
  if (request.has_hold()) change.hold = request.hold();
  if (request.has_direction()) {
    const auto direction = direction_from(request.direction());
    if (!direction) {
      return invalid("direction", request.direction() == mp::v1::DIRECTION_UNSPECIFIED
                                      ? std::string("present but DIRECTION_UNSPECIFIED")
                                      : "unknown direction " + std::to_string(request.direction()));
    }
    change.direction = *direction;
  }
  if (request.has_remote()) {
    auto remote = endpoint_from(request.remote(), "remote");
    if (!remote) return remote.error();
    change.remote = remote.value();
  }
  if (!change.mute && !change.deaf && !change.hold && !change.direction && !change.remote) {
    return invalid_argument("no change: set at least one of mute, deaf, hold, direction, remote");
  }
  return change;
}

}  // namespace mrfp::control
