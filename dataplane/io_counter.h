// A counter only some packet I/O backends keep (DPDK: frames a full TX ring
// refused, bad checksums, ARP answered...), reported by name so the control
// layer can export whatever the backend has without knowing which one it is.
#pragma once

#include <cstdint>

namespace mrfp::dataplane {

struct IoCounter {
  const char* name;  // snake_case, unique per backend; static storage
  const char* help;  // one sentence for /metrics; static storage
  std::uint64_t value = 0;
};

}  // namespace mrfp::dataplane
