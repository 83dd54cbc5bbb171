// The Mp API's enums to and from the dataplane's vocabulary.
#pragma once

#include <optional>

#include "dataplane/controller.h"
#include "mp.pb.h"

namespace mrfp::control {

// std::nullopt for UNSPECIFIED and for numbers outside the enum (proto3 keeps unknown values).
std::optional<mixer::Codec> codec_from(int codec);
std::optional<srtp::Suite> suite_from(int suite);
std::optional<mixer::Direction> direction_from(int direction);
std::optional<mixer::Policy> policy_from(int policy);

mp::v1::Codec to_proto(mixer::Codec codec);
mp::v1::SrtpSuite to_proto(srtp::Suite suite);
mp::v1::Direction to_proto(mixer::Direction direction);
mp::v1::MixPolicy to_proto(mixer::Policy policy);
mp::v1::Event::Kind to_proto(dataplane::Event::Kind kind);

}  // namespace mrfp::control
