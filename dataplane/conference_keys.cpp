// Rekeying (TR 33.829 §5.1.3): a new group key or a participant's own key,
// the old one kept for the grace window, then retired everywhere.
#include "dataplane/conference_internal.h"

#include <limits>

namespace mrfp::dataplane {

Result<RekeyResult> Conference::rekey(const srtp::MasterKey& key, std::int64_t now_us) {
  if (key.suite != spec_.group_key.suite) {
    return Error{ErrorCode::InvalidArgument, "key.suite must stay " + std::string(srtp::name(spec_.group_key.suite)) +
                                                 " for the life of the conference"};
  }
  const auto added = srtp_->add_master_key(key);
  if (added.status != srtp::SetupStatus::Ok) return setup_error(added.status, "key");
  // Inbound accepts the old and the new key: a key older than the old one,
  // still in its grace window from an earlier rekey, goes now.
  expire_group_keys_before(std::numeric_limits<std::int64_t>::max());
  // Inbound: every stream under the group key accepts the new key at once and
  // the old one until the grace window ends (by MKI where present).
  for (const auto& p : participants_) {
    if (p && p->ssrc && !p->own_key) srtp_->add_stream_key(*p->ssrc, added.handle);
  }
  // Outbound: each output stream switches at one packet boundary, which is now:
  // commands run between bursts, so no packet is half under either key.
  RekeyResult result;
  for (auto& stream : output_streams_) {
    srtp_->add_stream_key(stream->ssrc, added.handle);
    srtp_->switch_sending_key(stream->ssrc, added.handle);
    result.first_new_seq_by_ssrc.emplace_back(stream->ssrc, stream->next_sequence);
  }
  pending_key_removals_.push_back({now_us + rekey_grace_us_, group_keys_.front(), std::nullopt});
  group_keys_.insert(group_keys_.begin(), added.handle);
  publish(events_, events_dropped_, Event::Kind::RekeyDone, id_, 0,
          "group key replaced; %zu output streams switched, old key accepted for %lld ms more",
          result.first_new_seq_by_ssrc.size(), static_cast<long long>(rekey_grace_us_ / 1000));
  return result;
}

Status Conference::rekey_participant(ParticipantId id, const srtp::MasterKey& key, std::int64_t now_us) {
  auto* p = find(id);
  if (!p) {
    return Error{ErrorCode::NotFound,
                 "participant " + std::to_string(id) + " is not in conference " + std::to_string(id_)};
  }
  if (!p->own_key) {
    return Error{ErrorCode::FailedPrecondition, "participant " + std::to_string(id) +
                                                    " uses the conference group key; rekey the conference instead"};
  }
  const auto added = srtp_->add_master_key(key);
  if (added.status != srtp::SetupStatus::Ok) return setup_error(added.status, "key");
  if (p->ssrc) srtp_->add_stream_key(*p->ssrc, added.handle);
  pending_key_removals_.push_back({now_us + rekey_grace_us_, *p->own_key, id});
  p->own_key = added.handle;
  publish(events_, events_dropped_, Event::Kind::RekeyDone, id_, id, "participant %u inbound key replaced", id);
  return ok_status();
}

void Conference::expire_keys(std::int64_t now_us) {
  for (auto it = pending_key_removals_.begin(); it != pending_key_removals_.end();) {
    if (it->at_us > now_us) {
      ++it;
      continue;
    }
    if (it->participant) {
      if (auto* p = find(*it->participant); p && p->ssrc) srtp_->remove_stream_key(*p->ssrc, it->key);
      srtp_->remove_master_key(it->key);
    } else {
      remove_group_key(it->key);
    }
    it = pending_key_removals_.erase(it);
  }
}

void Conference::expire_group_keys_before(std::int64_t deadline_us) {
  for (auto it = pending_key_removals_.begin(); it != pending_key_removals_.end();) {
    if (it->participant || it->at_us > deadline_us) {
      ++it;
      continue;
    }
    remove_group_key(it->key);
    it = pending_key_removals_.erase(it);
  }
}

void Conference::remove_group_key(srtp::KeyHandle key) {
  for (const auto& p : participants_) {
    if (p && p->ssrc && !p->own_key) srtp_->remove_stream_key(*p->ssrc, key);
  }
  for (const auto& stream : output_streams_) srtp_->remove_stream_key(stream->ssrc, key);
  std::erase(group_keys_, key);
  srtp_->remove_master_key(key);
}

}  // namespace mrfp::dataplane
