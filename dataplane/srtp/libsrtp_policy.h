// Our suites as libsrtp2 crypto policies: the one mapping used by the reference
// engine, the libsrtp2 peers of the tests and the load generator.
#pragma once

#include <srtp2/srtp.h>

#include "dataplane/srtp/suite.h"

namespace mrfp::srtp {

void libsrtp_crypto_policy(Suite suite, srtp_crypto_policy_t& rtp, srtp_crypto_policy_t& rtcp);

}  // namespace mrfp::srtp
