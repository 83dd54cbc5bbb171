// RFC 3711 §3.4 E flag: SRTCP sent authenticated but not encrypted (E = 0)
// by libsrtp2 (policy sec_serv_auth) is read by our receiver; for AEAD that is
// RFC 7714 §9.2's "whole packet as AAD" case.
#include <gtest/gtest.h>

#include "dataplane/srtp/libsrtp_policy.h"
#include <srtp2/srtp.h>

#include <random>

#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"
#include "srtp_test_util.h"

namespace mrfp::srtp {
namespace {

class SrtcpEFlag : public ::testing::TestWithParam<Suite> {};

TEST_P(SrtcpEFlag, AuthenticatedOnlySrtcpFromLibsrtp) {
  static const srtp_err_status_t initialised = srtp_init();  // once per process
  ASSERT_EQ(initialised, srtp_err_status_ok);
  std::mt19937 random(static_cast<std::uint32_t>(GetParam()) + 99);
  const MasterKey key = test::random_key(GetParam(), random);
  const std::uint32_t ssrc = 0xcafe0001;

  std::array<unsigned char, 64> material{};
  std::copy_n(key.key.begin(), key.key_len, material.begin());
  std::copy_n(key.salt.begin(), key.salt_len, material.begin() + key.key_len);
  srtp_policy_t policy{};
  libsrtp_crypto_policy(GetParam(), policy.rtp, policy.rtcp);
  policy.rtcp.sec_serv = sec_serv_auth;  // E = 0
  policy.ssrc.type = ssrc_specific;
  policy.ssrc.value = ssrc;
  policy.key = material.data();
  policy.window_size = 128;
  srtp_t libsrtp = nullptr;
  ASSERT_EQ(srtp_create(&libsrtp, &policy), srtp_err_status_ok);

  IpsecMbEngine engine;
  SrtpSession ours(engine);
  const KeyHandle handle = ours.add_master_key(key).handle;
  ASSERT_EQ(ours.add_stream(ssrc, {&handle, 1}), SetupStatus::Ok);

  for (int i = 0; i < 20; ++i) {
    test::Buffer plain = test::make_rtcp(ssrc, static_cast<std::size_t>(i) * 8, random);
    test::Buffer wire = plain;
    int length = static_cast<int>(wire.length);
    ASSERT_EQ(srtp_protect_rtcp(libsrtp, wire.bytes.data(), &length), srtp_err_status_ok);
    wire.length = static_cast<std::uint32_t>(length);
    // E||index sits before the tag (HMAC) or after it (AEAD); E must be 0.
    const std::size_t tag = params(GetParam()).srtcp_tag_len;
    const std::size_t e_at = params(GetParam()).aead ? wire.length - 4 : wire.length - tag - 4;
    ASSERT_EQ(wire.bytes[e_at] & 0x80, 0) << "libsrtp did not send E = 0";
    ASSERT_TRUE(test::same_bytes(wire.bytes.data(), 8, plain.bytes.data(), 8));

    test::Buffer corrupt = wire;
    corrupt.bytes[wire.length / 2] ^= 4;
    PacketView bad = corrupt.view();
    ours.unprotect_rtcp({&bad, 1});
    EXPECT_EQ(bad.status, PacketStatus::AuthFailed);

    PacketView view = wire.view();
    ours.unprotect_rtcp({&view, 1});
    ASSERT_EQ(view.status, PacketStatus::Ok) << to_string(view.status) << " packet " << i;
    ASSERT_TRUE(test::same_bytes(view.data, view.length, plain.bytes.data(), plain.length));
  }
  srtp_dealloc(libsrtp);
}

std::string suite_name(const ::testing::TestParamInfo<Suite>& param) { return std::string(name(param.param)); }

INSTANTIATE_TEST_SUITE_P(AllSuites, SrtcpEFlag, ::testing::ValuesIn(test::kAllSuites), suite_name);

}  // namespace
}  // namespace mrfp::srtp
