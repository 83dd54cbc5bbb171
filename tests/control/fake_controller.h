// An in-memory Controller for the control-plane tests: records what it was asked
// and keeps conferences, participants and SSRCs with the dataplane's stateful
// rules (unknown id -> NOT_FOUND, SSRC reused in a conference -> ALREADY_EXISTS
// naming the SSRC and its holder), so tests see realistic answers.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "control/address.h"
#include "dataplane/controller.h"

namespace mrfp::control::testing {

class FakeController final : public dataplane::Controller {
 public:
  // What the last calls carried, for tests to check the translation.
  std::optional<dataplane::ConferenceSpec> last_conference_spec;
  std::optional<dataplane::ParticipantSpec> last_participant_spec;
  std::optional<dataplane::ParticipantChange> last_change;
  std::optional<srtp::MasterKey> last_rekey_key;
  std::vector<std::string> calls;
  bool is_healthy = true;

  dataplane::Result<dataplane::ConferenceInfo> create_conference(const dataplane::ConferenceSpec& spec) override {
    std::lock_guard lock(mutex_);
    calls.push_back("create_conference");
    last_conference_spec = spec;
    Conference conference;
    conference.spec = spec;
    conference.info.id = next_conference_++;
    conference.info.mix_rate_hz = spec.mix_rate_hz != 0 ? spec.mix_rate_hz : 8000;
    for (std::size_t i = 0; i < spec.codecs.size(); ++i) {
      const std::uint32_t ssrc = 0x10000u * conference.info.id + static_cast<std::uint32_t>(i);
      conference.info.output_streams.push_back({ssrc, "common " + std::string(mixer::name(spec.codecs[i]))});
    }
    const auto info = conference.info;
    conferences_.emplace(info.id, std::move(conference));
    return info;
  }

  dataplane::Status delete_conference(dataplane::ConferenceId id) override {
    std::lock_guard lock(mutex_);
    calls.push_back("delete_conference");
    if (conferences_.erase(id) == 0) return not_found_conference(id);
    return dataplane::ok_status();
  }

  dataplane::Result<dataplane::ParticipantInfo> add_participant(const dataplane::ParticipantSpec& spec) override {
    std::lock_guard lock(mutex_);
    calls.push_back("add_participant");
    last_participant_spec = spec;
    auto conference = conferences_.find(spec.conference);
    if (conference == conferences_.end()) return not_found_conference(spec.conference);
    if (spec.declared_ssrc) {
      for (const auto& stream : conference->second.info.output_streams) {
        if (stream.ssrc == *spec.declared_ssrc) {
          return dataplane::Error{dataplane::ErrorCode::AlreadyExists,
                                  "ssrc " + std::to_string(stream.ssrc) + " is held by output stream " + stream.purpose};
        }
      }
      for (const auto& [id, participant] : conference->second.participants) {
        if (participant.spec.declared_ssrc == spec.declared_ssrc) {
          return dataplane::Error{dataplane::ErrorCode::AlreadyExists, "ssrc " + std::to_string(*spec.declared_ssrc) +
                                                                           " is held by participant " + std::to_string(id)};
        }
      }
    }
    Participant participant;
    participant.spec = spec;
    participant.id = next_participant_++;
    participant.local = *endpoint_from_text("127.0.0.1", static_cast<std::uint16_t>(40000 + 2 * participant.id));
    conference->second.participants.emplace(participant.id, participant);
    return dataplane::ParticipantInfo{participant.id, participant.local,
                                      conference->second.info.output_streams.front().ssrc};
  }

  dataplane::Status modify_participant(dataplane::ConferenceId conference_id,
                                       const dataplane::ParticipantChange& change) override {
    std::lock_guard lock(mutex_);
    calls.push_back("modify_participant");
    last_change = change;
    auto found = find_participant(conference_id, change.participant);
    if (!found) return found.error();
    Participant& participant = *found.value();
    if (change.mute) participant.mute = *change.mute;
    if (change.deaf) participant.deaf = *change.deaf;
    if (change.hold) participant.hold = *change.hold;
    if (change.direction) participant.spec.direction = *change.direction;
    if (change.remote) participant.spec.remote = change.remote;
    return dataplane::ok_status();
  }

  dataplane::Status remove_participant(dataplane::ConferenceId conference_id,
                                       dataplane::ParticipantId participant_id) override {
    std::lock_guard lock(mutex_);
    calls.push_back("remove_participant");
    auto found = find_participant(conference_id, participant_id);
    if (!found) return found.error();
    conferences_.at(conference_id).participants.erase(participant_id);
    return dataplane::ok_status();
  }

  dataplane::Result<dataplane::RekeyResult> rekey_conference(dataplane::ConferenceId id,
                                                              const srtp::MasterKey& key) override {
    std::lock_guard lock(mutex_);
    calls.push_back("rekey_conference");
    last_rekey_key = key;
    auto conference = conferences_.find(id);
    if (conference == conferences_.end()) return not_found_conference(id);
    conference->second.spec.group_key = key;
    dataplane::RekeyResult result;
    std::uint16_t sequence = 1000;
    for (const auto& stream : conference->second.info.output_streams) {
      result.first_new_seq_by_ssrc.emplace_back(stream.ssrc, sequence++);
    }
    return result;
  }

  dataplane::Status rekey_participant(dataplane::ConferenceId conference_id, dataplane::ParticipantId participant_id,
                                      const srtp::MasterKey& key) override {
    std::lock_guard lock(mutex_);
    calls.push_back("rekey_participant");
    last_rekey_key = key;
    auto found = find_participant(conference_id, participant_id);
    if (!found) return found.error();
    found.value()->spec.own_key = key;
    return dataplane::ok_status();
  }

  dataplane::Result<dataplane::ConferenceAudit> audit(dataplane::ConferenceId id) override {
    std::lock_guard lock(mutex_);
    auto conference = conferences_.find(id);
    if (conference == conferences_.end()) return not_found_conference(id);
    const Conference& c = conference->second;
    dataplane::ConferenceAudit audit;
    audit.info = c.info;
    audit.suite = c.spec.group_key.suite;
    audit.frame_ms = c.spec.frame_ms;
    audit.speakers = c.spec.speakers;
    audit.policy = c.spec.policy;
    for (const auto& [participant_id, p] : c.participants) {
      dataplane::ParticipantAudit out;
      out.id = participant_id;
      out.codec = p.spec.codec;
      out.payload_type = p.spec.payload_type;
      out.direction = p.spec.direction;
      out.mute = p.mute;
      out.deaf = p.deaf;
      out.hold = p.hold;
      out.speaking = participant_id % 2 == 1;
      out.ssrc = p.spec.declared_ssrc;
      out.remote = p.spec.remote;
      out.local = p.local;
      out.own_key = p.spec.own_key.has_value();
      audit.participants.push_back(out);
    }
    return audit;
  }

  std::vector<dataplane::ConferenceId> conferences() override {
    std::lock_guard lock(mutex_);
    std::vector<dataplane::ConferenceId> ids;
    for (const auto& entry : conferences_) ids.push_back(entry.first);
    return ids;
  }

  dataplane::Result<dataplane::ConferenceStats> conference_stats(dataplane::ConferenceId id) override {
    std::lock_guard lock(mutex_);
    auto conference = conferences_.find(id);
    if (conference == conferences_.end()) return not_found_conference(id);
    dataplane::ConferenceStats stats;
    stats.id = id;
    stats.counters.ticks = 500;
    stats.counters.drop_auth_failed = 7;
    for (const auto& [participant_id, p] : conference->second.participants) {
      dataplane::ParticipantStats participant;
      participant.id = participant_id;
      participant.counters.rx_packets = 100;
      participant.counters.drop_replayed = 2;
      participant.jitter_ms = 1.5;
      participant.round_trip_ms = 40;
      participant.fraction_lost = 0.25;
      participant.jitter_buffer_ms = 60;
      stats.counters.rx_packets += 100;
      stats.participants.push_back(participant);
    }
    return stats;
  }

  std::vector<dataplane::WorkerStats> worker_stats() override {
    dataplane::WorkerStats first{0, 0.25, {}, {}};
    first.counters.tick_overruns = 3;
    first.receive_gaps_over_frame = 2;
    first.longest_receive_gap_ms = 42.5;
    first.io.push_back({"tx_refused", "Frames the TX ring refused.", 4});
    dataplane::WorkerStats second{1, 0.5, {}, {}};
    second.io.push_back({"tx_refused", "Frames the TX ring refused.", 0});
    return {first, second};
  }

  std::uint64_t subscribe(std::function<bool(const dataplane::Event&)> sink) override {
    std::lock_guard lock(mutex_);
    calls.push_back("subscribe");
    subscribers_.emplace(++last_subscription_, std::move(sink));
    return last_subscription_;
  }

  void unsubscribe(std::uint64_t subscription) override {
    std::lock_guard lock(mutex_);
    calls.push_back("unsubscribe");
    subscribers_.erase(subscription);
  }

  bool healthy() override { return is_healthy; }

  // Test side: deliver an event to every subscriber, as the dataplane's event thread would.
  void emit(const dataplane::Event& event) {
    std::lock_guard lock(mutex_);
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      it = it->second(event) ? std::next(it) : subscribers_.erase(it);
    }
  }
  std::size_t subscriber_count() {
    std::lock_guard lock(mutex_);
    return subscribers_.size();
  }
  bool was_called(const std::string& name) {
    std::lock_guard lock(mutex_);
    return std::find(calls.begin(), calls.end(), name) != calls.end();
  }

 private:
  struct Participant {
    dataplane::ParticipantId id = 0;
    dataplane::ParticipantSpec spec;
    dataplane::Endpoint local;
    bool mute = false, deaf = false, hold = false;
  };
  struct Conference {
    dataplane::ConferenceSpec spec;
    dataplane::ConferenceInfo info;
    std::map<dataplane::ParticipantId, Participant> participants;
  };

  static dataplane::Error not_found_conference(dataplane::ConferenceId id) {
    return {dataplane::ErrorCode::NotFound, "conference " + std::to_string(id) + " not found"};
  }
  dataplane::Result<Participant*> find_participant(dataplane::ConferenceId conference_id,
                                                   dataplane::ParticipantId participant_id) {
    auto conference = conferences_.find(conference_id);
    if (conference == conferences_.end()) return not_found_conference(conference_id);
    auto participant = conference->second.participants.find(participant_id);
    if (participant == conference->second.participants.end()) {
      return dataplane::Error{dataplane::ErrorCode::NotFound, "participant " + std::to_string(participant_id) +
                                                                  " not found in conference " +
                                                                  std::to_string(conference_id)};
    }
    return &participant->second;
  }

  std::mutex mutex_;
  std::map<dataplane::ConferenceId, Conference> conferences_;
  dataplane::ConferenceId next_conference_ = 1;
  dataplane::ParticipantId next_participant_ = 1;
  std::map<std::uint64_t, std::function<bool(const dataplane::Event&)>> subscribers_;
  std::uint64_t last_subscription_ = 0;
};

}  // namespace mrfp::control::testing
