#include "bench/peer/libsrtp_session.h"

#include "dataplane/srtp/libsrtp_policy.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace mrfp::sim {

namespace {
void init_libsrtp_once() {
  static std::once_flag once;
  // libsrtp2 refuses a second srtp_init in a process (its debug modules are
  // already registered) when the dataplane's reference engine ran it first;
  // either way the library is ready, and srtp_create reports a real failure.
  std::call_once(once, [] { srtp_init(); });
}
}  // namespace

LibsrtpSession::LibsrtpSession(const srtp::MasterKey& key, Direction direction,
                               std::optional<std::uint32_t> ssrc) {
  init_libsrtp_once();
  srtp_policy_t policy{};
  srtp::libsrtp_crypto_policy(key.suite, policy.rtp, policy.rtcp);
  // libsrtp2 takes the master key and salt as one buffer.
  std::vector<unsigned char> key_and_salt(key.key_bytes().begin(), key.key_bytes().end());
  key_and_salt.insert(key_and_salt.end(), key.salt_bytes().begin(), key.salt_bytes().end());
  srtp_master_key_t master{key_and_salt.data(), const_cast<unsigned char*>(key.mki.data()), key.mki_len};
  srtp_master_key_t* masters[] = {&master};
  if (key.mki_len > 0) {
    policy.keys = masters;
    policy.num_master_keys = 1;
  } else {
    policy.key = key_and_salt.data();
  }
  if (ssrc) {
    policy.ssrc = {ssrc_specific, *ssrc};
  } else {
    policy.ssrc.type = direction == Direction::Outbound ? ssrc_any_outbound : ssrc_any_inbound;
  }
  policy.window_size = 1024;
  policy.allow_repeat_tx = 0;
  use_mki_ = key.mki_len > 0;
  const auto status = srtp_create(&session_, &policy);
  explicit_bzero(key_and_salt.data(), key_and_salt.size());
  if (status != srtp_err_status_ok) {
    throw std::runtime_error("srtp_create failed: status " + std::to_string(status));
  }
}

LibsrtpSession::~LibsrtpSession() {
  if (session_) srtp_dealloc(session_);
}

int LibsrtpSession::protect(std::uint8_t* packet, int length) {
  const auto status = srtp_protect_mki(session_, packet, &length, use_mki_, 0);
  return status == srtp_err_status_ok ? length : -static_cast<int>(status);
}

int LibsrtpSession::unprotect(std::uint8_t* packet, int length) {
  const auto status = srtp_unprotect_mki(session_, packet, &length, use_mki_);
  return status == srtp_err_status_ok ? length : -static_cast<int>(status);
}

int LibsrtpSession::protect_rtcp(std::uint8_t* packet, int length) {
  const auto status = srtp_protect_rtcp_mki(session_, packet, &length, use_mki_, 0);
  return status == srtp_err_status_ok ? length : -static_cast<int>(status);
}

int LibsrtpSession::unprotect_rtcp(std::uint8_t* packet, int length) {
  const auto status = srtp_unprotect_rtcp_mki(session_, packet, &length, use_mki_);
  return status == srtp_err_status_ok ? length : -static_cast<int>(status);
}

}  // namespace mrfp::sim
