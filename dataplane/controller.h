// What the control plane may ask of the dataplane: the Mp operations as plain
// C++ calls. control/ translates gRPC requests into these and Results back into
// gRPC statuses; it never touches media state. Calls are thread-safe and block
// until the owning worker has applied the command between bursts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <netinet/in.h>

#include "dataplane/io_counter.h"
#include "dataplane/result.h"
#include "dataplane/srtp/suite.h"
#include "mixer/media_types.h"

namespace mrfp::dataplane {

using ConferenceId = std::uint32_t;
using ParticipantId = std::uint32_t;

// An IPv4 or IPv6 UDP endpoint.
struct Endpoint {
  sockaddr_storage address{};  // AF_INET or AF_INET6, port in network order inside
  std::string to_string() const;
  static std::optional<Endpoint> parse(const std::string& host, std::uint16_t port);
};

struct ConferenceSpec {
  std::vector<mixer::Codec> codecs;  // the codecs participants may use
  std::uint32_t frame_ms = 20;       // 10, 20, 30, 40 or 60
  std::uint32_t mix_rate_hz = 0;     // 8000, 16000 or 48000; 0: the lowest serving all codecs
  std::uint32_t speakers = 3;        // top-K; 0 means everybody
  mixer::Policy policy = mixer::Policy::SharedStreams;
  std::uint32_t opus_bitrate = 32000;
  std::uint32_t opus_complexity = 5;
  std::uint8_t mixer_levels_ext_id = 0;  // RFC 6465 extension id on output; 0: off
  srtp::MasterKey group_key;             // TR 33.829 §5.3.2: KMS-issued group key
};

struct OutputStreamInfo {
  std::uint32_t ssrc;
  std::string purpose;  // "common PCMU/8000/20ms", "mix-minus of participant 7", ...
};

struct ConferenceInfo {
  ConferenceId id = 0;
  std::uint32_t mix_rate_hz = 0;
  std::vector<OutputStreamInfo> output_streams;
};

struct ParticipantSpec {
  ConferenceId conference = 0;
  mixer::Codec codec = mixer::Codec::Pcmu;
  std::uint8_t payload_type = 0;
  std::optional<Endpoint> remote;             // absent: learn it from the first authenticated packet
  std::optional<std::uint32_t> declared_ssrc; // absent: latch the first authenticated SSRC
  mixer::Direction direction = mixer::Direction::SendRecv;
  std::uint8_t audio_level_ext_id = 0;        // RFC 6464 extension id; 0: compute levels
  std::optional<srtp::MasterKey> own_key;     // SDES-style inbound key; absent: the group key
};

struct ParticipantInfo {
  ParticipantId id = 0;
  Endpoint local;                // where the participant must send
  std::uint32_t receive_ssrc = 0; // the stream it will receive now
};

struct ParticipantChange {
  ParticipantId participant = 0;
  std::optional<bool> mute, deaf, hold;
  std::optional<mixer::Direction> direction;
  std::optional<Endpoint> remote;
};

struct RekeyResult {
  // For each output stream, the first sequence number protected with the new key.
  std::vector<std::pair<std::uint32_t, std::uint16_t>> first_new_seq_by_ssrc;
};

struct ParticipantAudit {
  ParticipantId id = 0;
  mixer::Codec codec{};
  std::uint8_t payload_type = 0;
  mixer::Direction direction{};
  bool mute = false, deaf = false, hold = false, speaking = false;
  std::optional<std::uint32_t> ssrc;  // declared or latched
  std::optional<Endpoint> remote;
  Endpoint local;
  bool own_key = false;  // never the key itself
};

struct ConferenceAudit {
  ConferenceInfo info;
  srtp::Suite suite{};
  std::uint32_t frame_ms = 0, speakers = 0;
  mixer::Policy policy{};
  std::vector<ParticipantAudit> participants;
};

// Counters; names match the Prometheus metrics and GetStats fields.
struct Counters {
  std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::uint64_t drop_malformed = 0, drop_unknown_port = 0, drop_ssrc_mismatch = 0, drop_source_mismatch = 0;
  std::uint64_t drop_auth_failed = 0, drop_replayed = 0, drop_too_old = 0, drop_unknown_mki = 0, drop_key_expired = 0;
  std::uint64_t drop_not_sending = 0, jitter_late = 0, jitter_lost = 0, concealed = 0;
  std::uint64_t ticks = 0, tick_overruns = 0, rtcp_rx = 0, rtcp_tx = 0;
  std::uint64_t ssrc_rotations = 0;  // output SSRCs retired before their sequence wrapped
  // Output packets the I/O did not take: a full TX ring, no mbuf, an unresolved
  // next hop, a failed sendmmsg. Never silent: a listener's gap shows here.
  std::uint64_t tx_dropped = 0;
};

// Adds every counter of `from` into `into` (conference totals, worker totals).
void add_counters(Counters& into, const Counters& from);

struct ParticipantStats {
  ParticipantId id = 0;
  Counters counters;
  double jitter_ms = 0, round_trip_ms = 0, fraction_lost = 0;
  double jitter_buffer_ms = 0;  // target depth of its jitter buffer
};

struct ConferenceStats {
  ConferenceId id = 0;
  Counters counters;
  std::vector<ParticipantStats> participants;
};

struct WorkerStats {
  unsigned worker = 0;
  double load = 0;  // busy fraction of the last second
  Counters counters;
  std::vector<IoCounter> io;  // the packet I/O backend's own counters (none on sockets)
  // Since the worker started: times it stayed away from its receive queue
  // longer than a 20 ms frame, and the longest such time (receive_gap_watch.h).
  std::uint64_t receive_gaps_over_frame = 0;
  double longest_receive_gap_ms = 0;
};

struct Event {
  enum class Kind { Joined, Left, TimedOut, SpeakerChange, SsrcCollision, AuthFailureBurst, RekeyDone, Overload };
  Kind kind;
  ConferenceId conference = 0;
  ParticipantId participant = 0;
  std::string detail;
  std::chrono::system_clock::time_point when;
};

class Controller {
 public:
  virtual ~Controller() = default;
  virtual Result<ConferenceInfo> create_conference(const ConferenceSpec& spec) = 0;
  virtual Status delete_conference(ConferenceId id) = 0;
  virtual Result<ParticipantInfo> add_participant(const ParticipantSpec& spec) = 0;
  virtual Status modify_participant(ConferenceId conference, const ParticipantChange& change) = 0;
  virtual Status remove_participant(ConferenceId conference, ParticipantId participant) = 0;
  virtual Result<RekeyResult> rekey_conference(ConferenceId id, const srtp::MasterKey& key) = 0;
  virtual Status rekey_participant(ConferenceId conference, ParticipantId participant,
                                   const srtp::MasterKey& key) = 0;
  virtual Result<ConferenceAudit> audit(ConferenceId id) = 0;
  virtual std::vector<ConferenceId> conferences() = 0;
  virtual Result<ConferenceStats> conference_stats(ConferenceId id) = 0;
  virtual std::vector<WorkerStats> worker_stats() = 0;
  // Calls `sink` for every event until it returns false; the returned handle unsubscribes.
  virtual std::uint64_t subscribe(std::function<bool(const Event&)> sink) = 0;
  virtual void unsubscribe(std::uint64_t subscription) = 0;
  virtual bool healthy() = 0;
};

}  // namespace mrfp::dataplane
