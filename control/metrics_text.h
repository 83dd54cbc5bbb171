// Controller statistics in the Prometheus text exposition format (0.0.4).
// Labelled by conference and by worker; per-participant series only on request,
// because thousands of participants would be thousands of series per counter.
#pragma once

#include <string>

#include "dataplane/controller.h"

namespace mrfp::control {

struct MetricsOptions {
  bool per_participant_labels = false;
};

std::string render_prometheus_metrics(dataplane::Controller& controller, const MetricsOptions& options);

}  // namespace mrfp::control
