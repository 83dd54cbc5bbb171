// Valid packets for each fuzz target, built with mrfp_packet's own builders: the
// seed corpus of scripts/fuzz.sh and the starting points of the smoke driver.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace mrfp::fuzz {

// target: "udp_frame", "rtp", "rtcp" or "srtp_unprotect" (RTP/RTCP behind a
// mode byte). Empty for an unknown target.
std::vector<std::vector<std::uint8_t>> seed_packets(std::string_view target);

}  // namespace mrfp::fuzz
