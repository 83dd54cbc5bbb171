// Bringing up DPDK's Environment Abstraction Layer, once per process: EAL can be
// initialised only once (a second rte_eal_init fails), so every caller of the
// DPDK backend goes through this helper.
#pragma once

#include <string>
#include <vector>

#include "dataplane/result.h"

namespace mrfp::dataplane {

// Initialises EAL with `args` (EAL arguments only, e.g. {"--no-huge", "-m", "128",
// "--vdev", "net_ring0"}; the program name is supplied here). The first call
// decides: later calls return its outcome without touching EAL again, whatever
// their arguments. Unavailable, with rte_strerror's text, when EAL refuses.
Status init_eal(const std::vector<std::string>& args);

// True once init_eal has succeeded in this process.
bool eal_initialised();

}  // namespace mrfp::dataplane
