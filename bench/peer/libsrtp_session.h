// A libsrtp2 session: the independent SRTP implementation our simulated
// participants use, so the two ends of every end-to-end test share no SRTP code.
#pragma once

#include <cstdint>
#include <optional>

#include <srtp2/srtp.h>

#include "dataplane/srtp/suite.h"

namespace mrfp::sim {

class LibsrtpSession {
 public:
  enum class Direction { Outbound, Inbound };
  // `ssrc` absent: any SSRC in that direction (libsrtp2's wildcard policy).
  LibsrtpSession(const srtp::MasterKey& key, Direction direction, std::optional<std::uint32_t> ssrc = {});
  ~LibsrtpSession();
  LibsrtpSession(const LibsrtpSession&) = delete;
  LibsrtpSession& operator=(const LibsrtpSession&) = delete;

  // In place; the buffer needs SRTP_MAX_TRAILER_LEN spare bytes. Returns the
  // new length, or the libsrtp2 error status as a negative number.
  int protect(std::uint8_t* packet, int length);
  int unprotect(std::uint8_t* packet, int length);
  int protect_rtcp(std::uint8_t* packet, int length);
  int unprotect_rtcp(std::uint8_t* packet, int length);

 private:
  srtp_t session_ = nullptr;
  unsigned use_mki_ = 0;
};

}  // namespace mrfp::sim
