#include "control/reply_conversion.h"

#include <google/protobuf/util/time_util.h>

#include "control/address.h"
#include "control/enum_conversion.h"

namespace mrfp::control {

void fill_address(const dataplane::Endpoint& endpoint, mp::v1::Address& address) {
  const HostPort host_port = host_port_of(endpoint);
  address.set_host(host_port.host);
  address.set_port(host_port.port);
}

void fill_output_stream(const dataplane::OutputStreamInfo& stream, mp::v1::OutputStream& output) {
  output.set_ssrc(stream.ssrc);
  output.set_purpose(stream.purpose);
}

void fill_conference_audit(const dataplane::ConferenceAudit& audit, mp::v1::ConferenceAudit& output) {
  output.set_conference_id(audit.info.id);
  output.set_mix_rate_hz(audit.info.mix_rate_hz);
  for (const auto& stream : audit.info.output_streams) fill_output_stream(stream, *output.add_output_streams());
  output.set_suite(to_proto(audit.suite));
  output.set_frame_ms(audit.frame_ms);
  output.set_speakers(audit.speakers);
  output.set_policy(to_proto(audit.policy));
  for (const auto& participant : audit.participants) {
    auto& out = *output.add_participants();
    out.set_participant_id(participant.id);
    out.set_codec(to_proto(participant.codec));
    out.set_payload_type(participant.payload_type);
    out.set_direction(to_proto(participant.direction));
    out.set_mute(participant.mute);
    out.set_deaf(participant.deaf);
    out.set_hold(participant.hold);
    out.set_speaking(participant.speaking);
    if (participant.ssrc) out.set_ssrc(*participant.ssrc);
    if (participant.remote) fill_address(*participant.remote, *out.mutable_remote());
    fill_address(participant.local, *out.mutable_local());
    out.set_own_key(participant.own_key);
  }
}

void fill_counters(const dataplane::Counters& counters, mp::v1::Counters& output) {
  output.set_rx_packets(counters.rx_packets);
  output.set_rx_bytes(counters.rx_bytes);
  output.set_tx_packets(counters.tx_packets);
  output.set_tx_bytes(counters.tx_bytes);
  output.set_drop_malformed(counters.drop_malformed);
  output.set_drop_unknown_port(counters.drop_unknown_port);
  output.set_drop_ssrc_mismatch(counters.drop_ssrc_mismatch);
  output.set_drop_source_mismatch(counters.drop_source_mismatch);
  output.set_drop_auth_failed(counters.drop_auth_failed);
  output.set_drop_replayed(counters.drop_replayed);
  output.set_drop_too_old(counters.drop_too_old);
  output.set_drop_unknown_mki(counters.drop_unknown_mki);
  output.set_drop_key_expired(counters.drop_key_expired);
  output.set_drop_not_sending(counters.drop_not_sending);
  output.set_jitter_late(counters.jitter_late);
  output.set_jitter_lost(counters.jitter_lost);
  output.set_concealed(counters.concealed);
  output.set_ticks(counters.ticks);
  output.set_tick_overruns(counters.tick_overruns);
  output.set_rtcp_rx(counters.rtcp_rx);
  output.set_rtcp_tx(counters.rtcp_tx);
  output.set_ssrc_rotations(counters.ssrc_rotations);
  output.set_tx_dropped(counters.tx_dropped);
}

void fill_conference_stats(const dataplane::ConferenceStats& stats, mp::v1::ConferenceStats& output) {
  output.set_conference_id(stats.id);
  fill_counters(stats.counters, *output.mutable_counters());
  for (const auto& participant : stats.participants) {
    auto& out = *output.add_participants();
    out.set_participant_id(participant.id);
    fill_counters(participant.counters, *out.mutable_counters());
    out.set_jitter_ms(participant.jitter_ms);
    out.set_round_trip_ms(participant.round_trip_ms);
    out.set_fraction_lost(participant.fraction_lost);
    out.set_jitter_buffer_ms(participant.jitter_buffer_ms);
  }
}

void fill_worker_stats(const dataplane::WorkerStats& stats, mp::v1::WorkerStats& output) {
  output.set_worker(stats.worker);
  output.set_load(stats.load);
  output.set_receive_gaps_over_frame(stats.receive_gaps_over_frame);
  output.set_longest_receive_gap_ms(stats.longest_receive_gap_ms);
  fill_counters(stats.counters, *output.mutable_counters());
  for (const auto& counter : stats.io) (*output.mutable_io_counters())[counter.name] = counter.value;
}

void fill_event(const dataplane::Event& event, mp::v1::Event& output) {
  output.set_kind(to_proto(event.kind));
  output.set_conference_id(event.conference);
  output.set_participant_id(event.participant);
  output.set_detail(event.detail);
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(event.when.time_since_epoch());
  *output.mutable_when() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(since_epoch.count());
}

}  // namespace mrfp::control
