// One conference's media state on the worker that owns it: its participants
// and their inbound SRTP contexts, the SSRC registry, the mixer, the output
// streams and their outbound SRTP. Touched by that worker only; the control
// plane reaches it through commands (Worker) and never directly.
#pragma once

#include <chrono>
#include <limits>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "dataplane/controller.h"
#include "dataplane/event_bus.h"
#include "dataplane/io/receive_burst.h"
#include "dataplane/srtp/srtp_processor.h"
#include "dataplane/ssrc_registry.h"
#include "dataplane/transmitter.h"
#include "mixer/conference_mixer.h"

namespace mrfp::srtp {
class CryptoEngine;
}

namespace mrfp::dataplane {

class Conference {
 public:
  // Validates the spec against what the mixer and SRTP layer accept; the
  // error names the field. Allocates everything the conference will use.
  static Result<std::unique_ptr<Conference>> create(ConferenceId id, const ConferenceSpec& spec,
                                                    std::uint32_t max_participants,
                                                    std::chrono::milliseconds rekey_grace,
                                                    std::uint32_t max_packets_per_ssrc,
                                                    std::unique_ptr<srtp::SrtpProcessor> srtp,
                                                    WorkerEventRing& events,
                                                    std::atomic<std::uint64_t>& events_dropped,
                                                    std::uint64_t seed);
  ~Conference();

  ConferenceId id() const { return id_; }
  ConferenceInfo info() const;

  // Control path (on the worker, between bursts).
  Result<ParticipantInfo> add_participant(ParticipantId id, const ParticipantSpec& spec,
                                          std::uint32_t local_port_index, const Endpoint& local);
  // Returns the local port index the participant held, for the backend to close.
  Result<std::uint32_t> remove_participant(ParticipantId id, Transmitter& transmitter);
  Status modify_participant(const ParticipantChange& change);
  Result<RekeyResult> rekey(const srtp::MasterKey& key, std::int64_t now_us);
  Status rekey_participant(ParticipantId id, const srtp::MasterKey& key, std::int64_t now_us);
  ConferenceAudit audit() const;
  ConferenceStats stats() const;
  std::vector<std::uint32_t> local_port_indexes() const;
  std::optional<std::uint32_t> participant_index(ParticipantId id) const;
  // RFC 3550 §6.6: BYE for every output stream to every listener.
  void say_goodbye(Transmitter& transmitter);

  // Packet path. stage() checks one packet and queues it; flush() unprotects
  // everything queued as one burst and feeds the mixer.
  void stage(std::uint32_t participant_index, ReceivedDatagram& packet);
  void flush();
  // Starts loading a participant's state ahead of stage(): a worker prefetches
  // the whole burst's participants first, so their cache misses overlap.
  void prefetch(std::uint32_t participant_index) const;
  bool has_staged() const { return !staged_.empty(); }

  // Ticks the mixer when due (catching up when late), protects each output
  // frame once and replicates it. Returns the next due time.
  std::int64_t tick_if_due(std::int64_t now_us, Transmitter& transmitter);
  std::int64_t next_tick_us() const { return next_tick_us_; }
  void start_clock(std::int64_t now_us) { next_tick_us_ = now_us + frame_us_; }
  // Finishes rekey grace windows that ended.
  void expire_keys(std::int64_t now_us);

  const Counters& counters() const { return counters_; }

 private:
  struct Participant;
  struct OutputStream;
  struct Staged {
    std::uint32_t participant_index;
    ReceivedDatagram* packet;
    bool rtcp;
    bool latching;  // the SSRC is tentatively bound until authentication
  };
  struct PendingRemoval {
    std::int64_t at_us;
    srtp::KeyHandle key;
    std::optional<ParticipantId> participant;  // set for a participant's own key
  };

  Conference(ConferenceId id, const ConferenceSpec& spec, std::uint32_t max_participants,
             std::chrono::milliseconds rekey_grace,
             std::unique_ptr<srtp::SrtpProcessor> srtp, WorkerEventRing& events,
             std::atomic<std::uint64_t>& events_dropped, std::uint64_t seed);

  Participant* find(ParticipantId id);
  const Participant* find(ParticipantId id) const;
  srtp::SetupStatus install_inbound_stream(const Participant& p, std::uint32_t ssrc);
  Result<OutputStream*> new_output_stream(std::string purpose, std::uint32_t owner_id);
  Result<OutputStream*> common_stream(mixer::Codec codec, std::uint8_t payload_type);
  bool move_to_fresh_ssrc(OutputStream& stream);
  Status yield_output_ssrc(std::uint32_t ssrc, ParticipantId claimant);
  void report_speaker_change();
  void report_inactivity(std::int64_t now_us);
  void expire_group_keys_before(std::int64_t deadline_us);
  void remove_group_key(srtp::KeyHandle key);
  void report(Participant& p, Event::Kind kind, std::int64_t now_us, const char* what);
  void prefetch_jitter_slot(const Staged& staged) const;
  void deliver(Participant& p, ReceivedDatagram& packet);
  void deliver_rtcp(Participant& p, ReceivedDatagram& packet);
  void tick_once(std::int64_t now_us, Transmitter& transmitter);
  std::uint32_t rtp_timestamp_of(const mixer::OutputFrame& frame) const;
  std::size_t packetize(const mixer::OutputFrame& frame, OutputStream& stream, std::span<std::uint8_t> out);
  void send_rtcp(std::span<std::uint8_t> compound, std::size_t length, std::span<const Destination> destinations,
                 Transmitter& transmitter);
  void send_sender_report(OutputStream& stream, std::uint32_t rtp_timestamp, std::span<const Destination> destinations,
                          Transmitter& transmitter);
  void send_bye(std::span<const std::uint32_t> sources, std::span<const Destination> destinations,
                Transmitter& transmitter);

  ConferenceId id_;
  ConferenceSpec spec_;  // the key in it is wiped once installed
  std::unique_ptr<srtp::SrtpProcessor> srtp_;
  std::unique_ptr<mixer::ConferenceMixer> mixer_;
  SsrcRegistry ssrcs_;
  WorkerEventRing& events_;
  std::atomic<std::uint64_t>& events_dropped_;

  // Group keys: [0] is current; during a rekey grace window the previous follows.
  std::vector<srtp::KeyHandle> group_keys_;
  std::vector<PendingRemoval> pending_key_removals_;
  std::int64_t rekey_grace_us_;
  std::uint32_t max_packets_per_ssrc_ = 1u << 15;

  std::vector<std::unique_ptr<Participant>> participants_;  // by index; null when free
  std::vector<std::uint32_t> free_participant_indexes_;
  std::unordered_map<ParticipantId, std::uint32_t> index_of_;
  std::vector<std::uint32_t> index_by_mixer_slot_;  // UINT32_MAX when free

  std::vector<std::unique_ptr<OutputStream>> output_streams_;
  std::vector<std::pair<std::uint32_t, OutputStream*>> common_by_format_;  // (codec << 8 | PT)
  std::vector<OutputStream*> mix_minus_streams_;                         // by mixer slot

  std::int64_t frame_us_;
  std::int64_t next_tick_us_ = 0;
  std::uint32_t rtp_timestamp_base_;

  // Per-burst scratch, sized at creation so the packet path does not allocate.
  std::vector<Staged> staged_;
  std::vector<srtp::PacketView> views_;
  std::vector<std::uint8_t> tx_buffers_;
  std::vector<srtp::PacketView> tx_views_;
  std::vector<Destination> destinations_;
  std::vector<const mixer::OutputFrame*> tx_frames_;
  std::vector<OutputStream*> tx_streams_;

  Counters counters_;
  std::vector<std::uint32_t> last_speakers_;  // mixer slots, for SpeakerChange events
  std::int64_t last_overload_event_us_ = std::numeric_limits<std::int64_t>::min() / 2;
};

}  // namespace mrfp::dataplane
