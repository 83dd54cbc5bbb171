// Dataplane answers into Mp replies. Audits carry the suite and whether a
// participant has its own key, never key bytes: there is no field for them.
#pragma once

#include "dataplane/controller.h"
#include "mp.pb.h"

namespace mrfp::control {

void fill_address(const dataplane::Endpoint& endpoint, mp::v1::Address& address);
void fill_output_stream(const dataplane::OutputStreamInfo& stream, mp::v1::OutputStream& output);
void fill_conference_audit(const dataplane::ConferenceAudit& audit, mp::v1::ConferenceAudit& output);
void fill_counters(const dataplane::Counters& counters, mp::v1::Counters& output);
void fill_conference_stats(const dataplane::ConferenceStats& stats, mp::v1::ConferenceStats& output);
void fill_worker_stats(const dataplane::WorkerStats& stats, mp::v1::WorkerStats& output);
void fill_event(const dataplane::Event& event, mp::v1::Event& output);

}  // namespace mrfp::control
