#include "control/enum_conversion.h"

namespace mrfp::control {

std::optional<mixer::Codec> codec_from(int codec) {
  switch (codec) {
    case mp::v1::CODEC_PCMU: return mixer::Codec::Pcmu;
    case mp::v1::CODEC_PCMA: return mixer::Codec::Pcma;
    case mp::v1::CODEC_OPUS: return mixer::Codec::Opus;
    default: return std::nullopt;
  }
}

std::optional<srtp::Suite> suite_from(int suite) {
  switch (suite) {
    case mp::v1::AES_CM_128_HMAC_SHA1_80: return srtp::Suite::AesCm128HmacSha1_80;
    case mp::v1::AES_CM_128_HMAC_SHA1_32: return srtp::Suite::AesCm128HmacSha1_32;
    case mp::v1::AES_256_CM_HMAC_SHA1_80: return srtp::Suite::AesCm256HmacSha1_80;
    case mp::v1::AEAD_AES_128_GCM: return srtp::Suite::AeadAes128Gcm;
    case mp::v1::AEAD_AES_256_GCM: return srtp::Suite::AeadAes256Gcm;
    default: return std::nullopt;
  }
}

std::optional<mixer::Direction> direction_from(int direction) {
  switch (direction) {
    case mp::v1::SENDRECV: return mixer::Direction::SendRecv;
    case mp::v1::SENDONLY: return mixer::Direction::SendOnly;
    case mp::v1::RECVONLY: return mixer::Direction::RecvOnly;
    case mp::v1::INACTIVE: return mixer::Direction::Inactive;
    default: return std::nullopt;
  }
}

std::optional<mixer::Policy> policy_from(int policy) {
  switch (policy) {
    case mp::v1::SHARED_STREAMS: return mixer::Policy::SharedStreams;
    case mp::v1::EVERY_PARTICIPANT: return mixer::Policy::EveryParticipant;
    default: return std::nullopt;
  }
}

mp::v1::Codec to_proto(mixer::Codec codec) {
  switch (codec) {
    case mixer::Codec::Pcmu: return mp::v1::CODEC_PCMU;
    case mixer::Codec::Pcma: return mp::v1::CODEC_PCMA;
    case mixer::Codec::Opus: return mp::v1::CODEC_OPUS;
  }
  return mp::v1::CODEC_UNSPECIFIED;
}

mp::v1::SrtpSuite to_proto(srtp::Suite suite) {
  switch (suite) {
    case srtp::Suite::AesCm128HmacSha1_80: return mp::v1::AES_CM_128_HMAC_SHA1_80;
    case srtp::Suite::AesCm128HmacSha1_32: return mp::v1::AES_CM_128_HMAC_SHA1_32;
    case srtp::Suite::AesCm256HmacSha1_80: return mp::v1::AES_256_CM_HMAC_SHA1_80;
    case srtp::Suite::AeadAes128Gcm: return mp::v1::AEAD_AES_128_GCM;
    case srtp::Suite::AeadAes256Gcm: return mp::v1::AEAD_AES_256_GCM;
  }
  return mp::v1::SRTP_SUITE_UNSPECIFIED;
}

mp::v1::Direction to_proto(mixer::Direction direction) {
  switch (direction) {
    case mixer::Direction::SendRecv: return mp::v1::SENDRECV;
    case mixer::Direction::SendOnly: return mp::v1::SENDONLY;
    case mixer::Direction::RecvOnly: return mp::v1::RECVONLY;
    case mixer::Direction::Inactive: return mp::v1::INACTIVE;
  }
  return mp::v1::DIRECTION_UNSPECIFIED;
}

mp::v1::MixPolicy to_proto(mixer::Policy policy) {
  switch (policy) {
    case mixer::Policy::SharedStreams: return mp::v1::SHARED_STREAMS;
    case mixer::Policy::EveryParticipant: return mp::v1::EVERY_PARTICIPANT;
  }
  return mp::v1::MIX_POLICY_UNSPECIFIED;
}

mp::v1::Event::Kind to_proto(dataplane::Event::Kind kind) {
  using Kind = dataplane::Event::Kind;
  switch (kind) {
    case Kind::Joined: return mp::v1::Event::JOINED;
    case Kind::Left: return mp::v1::Event::LEFT;
    case Kind::TimedOut: return mp::v1::Event::TIMED_OUT;
    case Kind::SpeakerChange: return mp::v1::Event::SPEAKER_CHANGE;
    case Kind::SsrcCollision: return mp::v1::Event::SSRC_COLLISION;
    case Kind::AuthFailureBurst: return mp::v1::Event::AUTH_FAILURE_BURST;
    case Kind::RekeyDone: return mp::v1::Event::REKEY_DONE;
    case Kind::Overload: return mp::v1::Event::OVERLOAD;
  }
  return mp::v1::Event::KIND_UNSPECIFIED;
}

}  // namespace mrfp::control
