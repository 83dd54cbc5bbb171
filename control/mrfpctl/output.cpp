#include "control/mrfpctl/output.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <cstdio>
#include <sstream>

namespace mrfp::control::cli {

std::string to_json(const google::protobuf::Message& message, bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = !one_line;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

std::string hex_ssrc(std::uint32_t ssrc) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", ssrc);
  return text;
}

std::string describe(const mp::v1::Address& address) {
  if (address.host().find(':') != std::string::npos) return "[" + address.host() + "]:" + std::to_string(address.port());
  return address.host() + ":" + std::to_string(address.port());
}

std::string describe(const mp::v1::CreateConferenceResponse& reply) {
  std::ostringstream out;
  out << "conference " << reply.conference_id() << " created, mixing at " << reply.mix_rate_hz() << " Hz\n";
  for (const auto& stream : reply.output_streams()) {
    out << "  output ssrc " << hex_ssrc(stream.ssrc()) << "  " << stream.purpose() << "\n";
  }
  return out.str();
}

std::string describe(const mp::v1::AddParticipantResponse& reply) {
  std::ostringstream out;
  out << "participant " << reply.participant_id() << ": send to " << describe(reply.local()) << ", receives ssrc "
      << hex_ssrc(reply.receive_ssrc()) << "\n";
  return out.str();
}

std::string describe(const mp::v1::RekeyResponse& reply) {
  if (reply.output_streams().empty()) return "rekeyed\n";
  std::ostringstream out;
  out << "rekeyed; first packet under the new key:\n";
  for (const auto& stream : reply.output_streams()) {
    out << "  ssrc " << hex_ssrc(stream.ssrc()) << "  seq " << stream.first_sequence() << "\n";
  }
  return out.str();
}

namespace {

std::string flags_of(const mp::v1::ParticipantAudit& participant) {
  std::string flags;
  if (participant.speaking()) flags += " speaking";
  if (participant.mute()) flags += " muted";
  if (participant.deaf()) flags += " deaf";
  if (participant.hold()) flags += " held";
  if (participant.own_key()) flags += " own-key";
  return flags;
}

std::uint64_t total_drops(const mp::v1::Counters& c) {
  return c.drop_malformed() + c.drop_unknown_port() + c.drop_ssrc_mismatch() + c.drop_source_mismatch() +
         c.drop_auth_failed() + c.drop_replayed() + c.drop_too_old() + c.drop_unknown_mki() + c.drop_key_expired() +
         c.drop_not_sending();
}

// Every non-zero counter as name=value, by reflection so no counter is forgotten.
std::string nonzero_counters(const mp::v1::Counters& counters) {
  std::string text;
  const auto* descriptor = counters.GetDescriptor();
  const auto* reflection = counters.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto value = reflection->GetUInt64(counters, descriptor->field(i));
    if (value != 0) text += " " + descriptor->field(i)->name() + "=" + std::to_string(value);
  }
  return text.empty() ? " (all zero)" : text;
}

}  // namespace

std::string describe(const mp::v1::AuditResponse& reply) {
  if (reply.conferences().empty()) return "no conferences\n";
  std::ostringstream out;
  for (const auto& conference : reply.conferences()) {
    out << "conference " << conference.conference_id() << "  " << mp::v1::SrtpSuite_Name(conference.suite()) << "  "
        << conference.frame_ms() << " ms  " << conference.mix_rate_hz() << " Hz  K=" << conference.speakers() << "  "
        << mp::v1::MixPolicy_Name(conference.policy()) << "\n";
    for (const auto& stream : conference.output_streams()) {
      out << "  output ssrc " << hex_ssrc(stream.ssrc()) << "  " << stream.purpose() << "\n";
    }
    for (const auto& participant : conference.participants()) {
      out << "  participant " << participant.participant_id() << "  " << mp::v1::Codec_Name(participant.codec())
          << "/" << participant.payload_type() << "  " << mp::v1::Direction_Name(participant.direction()) << "  ssrc "
          << (participant.has_ssrc() ? hex_ssrc(participant.ssrc()) : std::string("(latching)")) << "  remote "
          << (participant.has_remote() ? describe(participant.remote()) : std::string("(learning)")) << "  local "
          << describe(participant.local()) << flags_of(participant) << "\n";
    }
  }
  return out.str();
}

std::string describe(const mp::v1::GetStatsResponse& reply) {
  std::ostringstream out;
  for (const auto& worker : reply.workers()) {
    char load[16];
    std::snprintf(load, sizeof load, "%.0f%%", worker.load() * 100);
    out << "worker " << worker.worker() << "  load " << load << " " << nonzero_counters(worker.counters()) << "\n";
  }
  for (const auto& conference : reply.conferences()) {
    out << "conference " << conference.conference_id() << "  drops " << total_drops(conference.counters())
        << nonzero_counters(conference.counters()) << "\n";
    for (const auto& participant : conference.participants()) {
      char quality[96];
      std::snprintf(quality, sizeof quality, "jitter %.1f ms  rtt %.1f ms  lost %.1f%%", participant.jitter_ms(),
                    participant.round_trip_ms(), participant.fraction_lost() * 100);
      out << "  participant " << participant.participant_id() << "  " << quality << " "
          << nonzero_counters(participant.counters()) << "\n";
    }
  }
  return out.str();
}

std::string describe(const mp::v1::Event& event) {
  std::ostringstream out;
  out << google::protobuf::util::TimeUtil::ToString(event.when()) << "  " << mp::v1::Event::Kind_Name(event.kind())
      << "  conference " << event.conference_id();
  if (event.participant_id() != 0) out << "  participant " << event.participant_id();
  if (!event.detail().empty()) out << "  " << event.detail();
  out << "\n";
  return out.str();
}

}  // namespace mrfp::control::cli
