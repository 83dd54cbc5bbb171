#include "control/mrfpctl/commands.h"

#include <string.h>  // explicit_bzero

#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "control/mrfpctl/key_text.h"
#include "control/mrfpctl/output.h"

namespace mrfp::control::cli {
namespace {

// "@FILE" for a key option: the text in FILE, surrounding whitespace dropped.
std::string read_key_file(const std::string& path, const char* option) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error(std::string(option) + ": cannot read " + path);
  std::string text;
  file >> text;
  return text;
}

// Key options shared by create-conference, add-participant and rekey.
struct KeyOptions {
  std::string suite = "AES_CM_128_HMAC_SHA1_80";
  std::string key, salt, mki;
  std::string encoding = "hex";

  void add_to(CLI::App& command, const std::string& what, bool required) {
    command.add_option("--suite", suite, "SRTP suite by its SDP name")->capture_default_str();
    auto* key_option = command.add_option("--key", key, what + " master key: hex, or base64 with --key-encoding; @FILE reads it from FILE");
    if (required) key_option->required();
    command.add_option("--salt", salt, "master salt, same encoding")->needs(key_option);
    command.add_option("--mki", mki, "MKI, same encoding (omit for none)")->needs(key_option);
    command.add_option("--key-encoding", encoding, "hex or base64 (RFC 4648)")
        ->check(CLI::IsMember({"hex", "base64"}))
        ->capture_default_str();
  }
  bool given() const { return !key.empty(); }

  // The server re-checks lengths against the suite; here only the text is decoded.
  mp::v1::SrtpKey to_proto() {
    mp::v1::SrtpKey proto;
    mp::v1::SrtpSuite suite_number;
    if (!mp::v1::SrtpSuite_Parse(suite, &suite_number)) throw std::runtime_error("--suite: unknown suite " + suite);
    proto.set_suite(suite_number);
    const KeyEncoding kind = encoding == "base64" ? KeyEncoding::Base64 : KeyEncoding::Hex;
    auto decode = [&](std::string& text, const char* option) {
      if (text.starts_with("@")) text = read_key_file(text.substr(1), option);
      auto bytes = decode_key_text(text, kind);
      explicit_bzero(text.data(), text.size());
      if (!bytes) throw std::runtime_error(std::string(option) + ": not valid " + encoding);
      return *bytes;
    };
    std::string bytes = decode(key, "--key");
    proto.set_master_key(bytes);
    explicit_bzero(bytes.data(), bytes.size());
    bytes = decode(salt, "--salt");
    proto.set_master_salt(bytes);
    explicit_bzero(bytes.data(), bytes.size());
    if (!mki.empty()) proto.set_mki(decode(mki, "--mki"));
    return proto;
  }
};

mp::v1::Codec parse_codec(const std::string& name) {
  if (name == "pcmu" || name == "PCMU") return mp::v1::CODEC_PCMU;
  if (name == "pcma" || name == "PCMA") return mp::v1::CODEC_PCMA;
  if (name == "opus" || name == "OPUS") return mp::v1::CODEC_OPUS;
  throw std::runtime_error("codec: unknown " + name + " (pcmu, pcma, opus)");
}

mp::v1::Direction parse_direction(const std::string& name) {
  mp::v1::Direction direction;
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (!mp::v1::Direction_Parse(upper, &direction) || direction == mp::v1::DIRECTION_UNSPECIFIED) {
    throw std::runtime_error("--direction: unknown " + name + " (sendrecv, sendonly, recvonly, inactive)");
  }
  return direction;
}

// "192.0.2.1:5004" or "[2001:db8::1]:5004".
mp::v1::Address parse_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::runtime_error("--remote: expected HOST:PORT, got " + text);
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  mp::v1::Address address;
  address.set_host(host);
  try {
    address.set_port(static_cast<std::uint32_t>(std::stoul(text.substr(colon + 1))));
  } catch (const std::exception&) {
    throw std::runtime_error("--remote: port of " + text + " is not a number");
  }
  return address;
}

std::optional<bool> parse_on_off(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text == "on";
}

// Prints the reply (JSON or human) or the error; returns the exit code.
template <class Reply, class Describe>
int finish(const grpc::Status& status, const Reply& reply, const Connection& connection, Describe describe_reply) {
  if (!status.ok()) return report_rpc_error(status);
  std::cout << (connection.json ? to_json(reply) + "\n" : describe_reply(reply));
  return 0;
}

void add_create_conference(CLI::App& app, const Connection& connection, int& exit_code) {
  struct Options {
    std::vector<std::string> codecs;
    unsigned frame_ms = 20, mix_rate = 0, opus_bitrate = 0, levels_ext_id = 0;
    std::optional<unsigned> speakers, opus_complexity;
    std::string policy = "shared";
    KeyOptions group_key;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("create-conference", "CreateConference: a conference with its group key");
  command->add_option("--codec", options->codecs, "pcmu, pcma or opus; repeat for several")->required();
  command->add_option("--frame-ms", options->frame_ms, "10, 20, 30, 40 or 60")->capture_default_str();
  command->add_option("--mix-rate", options->mix_rate, "8000, 16000, 48000; 0: automatic")->capture_default_str();
  command->add_option("--speakers", options->speakers, "top-K speakers, 0-15 (0: everybody); default 3");
  command->add_option("--policy", options->policy, "shared or every")
      ->check(CLI::IsMember({"shared", "every"}))
      ->capture_default_str();
  command->add_option("--opus-bitrate", options->opus_bitrate, "bit/s; 0: 32000");
  command->add_option("--opus-complexity", options->opus_complexity, "0-10; default 5");
  command->add_option("--levels-ext-id", options->levels_ext_id, "RFC 6465 extension id 1-14; 0: off");
  options->group_key.add_to(*command, "group", true);
  command->callback([options, &connection, &exit_code] {
    mp::v1::CreateConferenceRequest request;
    for (const auto& codec : options->codecs) request.add_codecs(parse_codec(codec));
    request.set_frame_ms(options->frame_ms);
    request.set_mix_rate_hz(options->mix_rate);
    if (options->speakers) request.set_speakers(*options->speakers);
    request.set_policy(options->policy == "every" ? mp::v1::EVERY_PARTICIPANT : mp::v1::SHARED_STREAMS);
    request.set_opus_bitrate(options->opus_bitrate);
    if (options->opus_complexity) request.set_opus_complexity(*options->opus_complexity);
    request.set_mixer_levels_ext_id(options->levels_ext_id);
    *request.mutable_group_key() = options->group_key.to_proto();
    mp::v1::CreateConferenceResponse reply;
    const auto status = connection.stub()->CreateConference(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto& r) { return describe(r); });
  });
}

void add_delete_conference(CLI::App& app, const Connection& connection, int& exit_code) {
  auto conference = std::make_shared<std::uint32_t>(0);
  auto* command = app.add_subcommand("delete-conference", "DeleteConference");
  command->add_option("conference", *conference, "conference id")->required();
  command->callback([conference, &connection, &exit_code] {
    mp::v1::DeleteConferenceRequest request;
    request.set_conference_id(*conference);
    mp::v1::DeleteConferenceResponse reply;
    const auto status = connection.stub()->DeleteConference(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [&](const auto&) {
      return "conference " + std::to_string(*conference) + " deleted\n";
    });
  });
}

void add_add_participant(CLI::App& app, const Connection& connection, int& exit_code) {
  struct Options {
    std::uint32_t conference = 0;
    std::string codec = "pcmu";
    std::optional<unsigned> payload_type;
    std::string remote, direction = "sendrecv";
    std::optional<std::uint32_t> ssrc;
    unsigned level_ext_id = 0;
    KeyOptions own_key;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("add-participant", "AddParticipant: returns where to send and the SSRC received");
  command->add_option("conference", options->conference, "conference id")->required();
  command->add_option("--codec", options->codec, "pcmu, pcma or opus")->capture_default_str();
  command->add_option("--pt", options->payload_type, "RTP payload type; default: 0 PCMU, 8 PCMA, 111 opus");
  command->add_option("--remote", options->remote, "HOST:PORT to send to; omitted: learnt from the first packet");
  command->add_option("--ssrc", options->ssrc, "declared SSRC; omitted: latched from the first packet");
  command->add_option("--direction", options->direction, "sendrecv, sendonly, recvonly, inactive")
      ->capture_default_str();
  command->add_option("--level-ext-id", options->level_ext_id, "RFC 6464 extension id 1-14; 0: compute levels");
  options->own_key.add_to(*command, "own (SDES) inbound; omitted: the group key;", false);
  command->callback([options, &connection, &exit_code] {
    mp::v1::AddParticipantRequest request;
    request.set_conference_id(options->conference);
    request.set_codec(parse_codec(options->codec));
    const unsigned default_pt = request.codec() == mp::v1::CODEC_PCMA ? 8 : request.codec() == mp::v1::CODEC_OPUS ? 111 : 0;
    request.set_payload_type(options->payload_type.value_or(default_pt));
    if (!options->remote.empty()) *request.mutable_remote() = parse_address(options->remote);
    if (options->ssrc) request.set_ssrc(*options->ssrc);
    request.set_direction(parse_direction(options->direction));
    request.set_audio_level_ext_id(options->level_ext_id);
    if (options->own_key.given()) *request.mutable_own_key() = options->own_key.to_proto();
    mp::v1::AddParticipantResponse reply;
    const auto status = connection.stub()->AddParticipant(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto& r) { return describe(r); });
  });
}

void add_modify_participant(CLI::App& app, const Connection& connection, int& exit_code) {
  struct Options {
    std::uint32_t conference = 0, participant = 0;
    std::string mute, deaf, hold, direction, remote;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("modify-participant", "ModifyParticipant: only the options given change");
  command->add_option("conference", options->conference, "conference id")->required();
  command->add_option("participant", options->participant, "participant id")->required();
  const auto on_off = CLI::IsMember({"on", "off"});
  command->add_option("--mute", options->mute, "on or off")->check(on_off);
  command->add_option("--deaf", options->deaf, "on or off")->check(on_off);
  command->add_option("--hold", options->hold, "on or off")->check(on_off);
  command->add_option("--direction", options->direction, "sendrecv, sendonly, recvonly, inactive");
  command->add_option("--remote", options->remote, "new HOST:PORT");
  command->callback([options, &connection, &exit_code] {
    mp::v1::ModifyParticipantRequest request;
    request.set_conference_id(options->conference);
    request.set_participant_id(options->participant);
    if (auto mute = parse_on_off(options->mute)) request.set_mute(*mute);
    if (auto deaf = parse_on_off(options->deaf)) request.set_deaf(*deaf);
    if (auto hold = parse_on_off(options->hold)) request.set_hold(*hold);
    if (!options->direction.empty()) request.set_direction(parse_direction(options->direction));
    if (!options->remote.empty()) *request.mutable_remote() = parse_address(options->remote);
    mp::v1::ModifyParticipantResponse reply;
    const auto status = connection.stub()->ModifyParticipant(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto&) { return std::string("modified\n"); });
  });
}

void add_remove_participant(CLI::App& app, const Connection& connection, int& exit_code) {
  auto ids = std::make_shared<std::pair<std::uint32_t, std::uint32_t>>();
  auto* command = app.add_subcommand("remove-participant", "RemoveParticipant");
  command->add_option("conference", ids->first, "conference id")->required();
  command->add_option("participant", ids->second, "participant id")->required();
  command->callback([ids, &connection, &exit_code] {
    mp::v1::RemoveParticipantRequest request;
    request.set_conference_id(ids->first);
    request.set_participant_id(ids->second);
    mp::v1::RemoveParticipantResponse reply;
    const auto status = connection.stub()->RemoveParticipant(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto&) { return std::string("removed\n"); });
  });
}

void add_rekey(CLI::App& app, const Connection& connection, int& exit_code) {
  struct Options {
    std::uint32_t conference = 0;
    std::optional<std::uint32_t> participant;
    KeyOptions key;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("rekey", "Rekey: a new group key, or with --participant its own key");
  command->add_option("conference", options->conference, "conference id")->required();
  command->add_option("--participant", options->participant, "rekey this participant's own (SDES) key");
  options->key.add_to(*command, "new", true);
  command->callback([options, &connection, &exit_code] {
    mp::v1::RekeyRequest request;
    request.set_conference_id(options->conference);
    if (options->participant) request.set_participant_id(*options->participant);
    *request.mutable_key() = options->key.to_proto();
    mp::v1::RekeyResponse reply;
    const auto status = connection.stub()->Rekey(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto& r) { return describe(r); });
  });
}

void add_audit(CLI::App& app, const Connection& connection, int& exit_code) {
  auto conference = std::make_shared<std::optional<std::uint32_t>>();
  auto* command = app.add_subcommand("audit", "Audit: conferences and participants (never keys)");
  command->add_option("conference", *conference, "conference id; omitted: all");
  command->callback([conference, &connection, &exit_code] {
    mp::v1::AuditRequest request;
    if (*conference) request.set_conference_id(**conference);
    mp::v1::AuditResponse reply;
    const auto status = connection.stub()->Audit(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto& r) { return describe(r); });
  });
}

void add_stats(CLI::App& app, const Connection& connection, int& exit_code) {
  auto conference = std::make_shared<std::optional<std::uint32_t>>();
  auto* command = app.add_subcommand("stats", "GetStats: counters, drops, loss, jitter, round trip, worker load");
  command->add_option("conference", *conference, "conference id; omitted: all");
  command->callback([conference, &connection, &exit_code] {
    mp::v1::GetStatsRequest request;
    if (*conference) request.set_conference_id(**conference);
    mp::v1::GetStatsResponse reply;
    const auto status = connection.stub()->GetStats(connection.context().get(), request, &reply);
    exit_code = finish(status, reply, connection, [](const auto& r) { return describe(r); });
  });
}

void add_events(CLI::App& app, const Connection& connection, int& exit_code) {
  struct Options {
    std::optional<std::uint32_t> conference;
    unsigned count = 0;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("events", "WatchEvents: follow events until interrupted");
  command->add_option("conference", options->conference, "only this conference's events");
  command->add_option("--count", options->count, "stop after this many events (0: never)");
  command->callback([options, &connection, &exit_code] {
    mp::v1::WatchEventsRequest request;
    if (options->conference) request.set_conference_id(*options->conference);
    grpc::ClientContext context;  // no deadline: a stream that lasts
    auto stub = connection.stub();
    auto reader = stub->WatchEvents(&context, request);
    mp::v1::Event event;
    unsigned seen = 0;
    while (reader->Read(&event)) {
      std::cout << (connection.json ? to_json(event, true) + "\n" : describe(event)) << std::flush;
      if (options->count != 0 && ++seen == options->count) {
        context.TryCancel();
        break;
      }
    }
    const auto status = reader->Finish();
    const bool stopped_by_us = options->count != 0 && seen == options->count;
    exit_code = status.ok() || stopped_by_us ? 0 : report_rpc_error(status);
  });
}

void add_health(CLI::App& app, const Connection& connection, int& exit_code) {
  auto* command = app.add_subcommand("health", "Health: exit 0 when serving");
  command->callback([&connection, &exit_code] {
    mp::v1::HealthResponse reply;
    const auto status = connection.stub()->Health(connection.context().get(), mp::v1::HealthRequest(), &reply);
    exit_code = finish(status, reply, connection,
                       [](const auto& r) { return std::string(r.serving() ? "serving\n" : "NOT serving\n"); });
    if (exit_code == 0 && !reply.serving()) exit_code = 3;
  });
}

void add_top(CLI::App& app, const Connection& connection, int& exit_code) {
  struct Options {
    double interval = 1.0;
    unsigned refreshes = 0;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("top", "live view of conferences, participants, speakers and drops");
  command->add_option("--interval", options->interval, "seconds between refreshes")->capture_default_str();
  command->add_option("--count", options->refreshes, "stop after this many refreshes (0: never)");
  command->callback([options, &connection, &exit_code] {
    exit_code = run_top(connection, options->interval, options->refreshes);
  });
}

}  // namespace

void add_commands(CLI::App& app, const Connection& connection, int& exit_code) {
  add_create_conference(app, connection, exit_code);
  add_delete_conference(app, connection, exit_code);
  add_add_participant(app, connection, exit_code);
  add_modify_participant(app, connection, exit_code);
  add_remove_participant(app, connection, exit_code);
  add_rekey(app, connection, exit_code);
  add_audit(app, connection, exit_code);
  add_stats(app, connection, exit_code);
  add_events(app, connection, exit_code);
  add_health(app, connection, exit_code);
  add_top(app, connection, exit_code);
}

}  // namespace mrfp::control::cli
