// The mixer's vocabulary: codecs, mixing policies and stream directions,
// shared with the dataplane and the control API.
#pragma once

#include <cstdint>
#include <string_view>

namespace mrfp::mixer {

enum class Codec : std::uint8_t {
  Pcmu,  // G.711 mu-law, static payload type 0 (RFC 3551 §4.5.14)
  Pcma,  // G.711 A-law, static payload type 8
  Opus,  // RFC 7587: 48 kHz RTP clock whatever the audio bandwidth
};

constexpr std::uint32_t rtp_clock_rate(Codec codec) { return codec == Codec::Opus ? 48000 : 8000; }
// The rate at which the codec's decoder hands us PCM, and its encoder takes it.
constexpr std::uint32_t native_pcm_rate(Codec codec) { return codec == Codec::Opus ? 48000 : 8000; }

constexpr std::string_view name(Codec codec) {
  switch (codec) {
    case Codec::Pcmu: return "PCMU";
    case Codec::Pcma: return "PCMA";
    case Codec::Opus: return "opus";
  }
  return "";
}

enum class Policy : std::uint8_t {
  // Decode the top-K speakers only; one common encoded stream shared by every
  // listener of a (codec, rate, frame) group, one mix-minus per speaker.
  SharedStreams,
  // The reference (FreeSWITCH mod_conference, Janus AudioBridge): decode all,
  // encode a mix-minus for every participant.
  EveryParticipant,
};

enum class Direction : std::uint8_t { SendRecv, SendOnly, RecvOnly, Inactive };

constexpr bool sends_to_mixer(Direction d) { return d == Direction::SendRecv || d == Direction::SendOnly; }
constexpr bool receives_from_mixer(Direction d) { return d == Direction::SendRecv || d == Direction::RecvOnly; }

}  // namespace mrfp::mixer
