// Mutual TLS on the Mp interface: certificates are made with the openssl CLI in
// a temporary directory; only a client holding a certificate from the
// configured CA gets through.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "control/control_server.h"
#include "control/tls_options.h"
#include "fake_controller.h"
#include "mp.grpc.pb.h"

namespace mrfp::control::testing {
namespace {

namespace fs = std::filesystem;

class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "mrfp-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    make_certificates();
    ControlServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.tls = TlsFiles{path("server.crt"), path("server.key"), path("ca.crt")};
    auto server = run_control_server(fake_, options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server.value());
  }
  void TearDown() override {
    if (server_) server_->shutdown();
    fs::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  void run(const std::string& command) {
    const std::string full = "cd '" + dir_.string() + "' && " + command + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << command;
  }

  void make_certificates() {
    const std::string new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(dir_ / "server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    std::ofstream(dir_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    for (const std::string ca : {"ca", "other-ca"}) {
      run("openssl req -x509 " + new_key + " -keyout " + ca + ".key -out " + ca + ".crt -subj /CN=" + ca +
          " -days 2");
    }
    auto issue = [&](const std::string& name, const std::string& ca, const std::string& extensions) {
      run("openssl req " + new_key + " -keyout " + name + ".key -out " + name + ".csr -subj /CN=" + name);
      run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial -out " +
          name + ".crt -days 2 -extfile " + extensions);
    };
    issue("server", "ca", "server.ext");
    issue("client", "ca", "client.ext");
    issue("rogue-client", "other-ca", "client.ext");
  }

  static std::string read(const std::string& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  grpc::Status health_over(const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    auto stub = mp::v1::Mp::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    mp::v1::HealthResponse reply;
    return stub->Health(&context, mp::v1::HealthRequest(), &reply);
  }

  FakeController fake_;
  std::unique_ptr<ControlServer> server_;
  fs::path dir_;
};

TEST_F(MutualTlsTest, ClientWithCertificateFromTheCaIsServed) {
  auto credentials = mutual_tls_channel_credentials({path("client.crt"), path("client.key"), path("ca.crt")});
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  const auto status = health_over(credentials.value());
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(MutualTlsTest, ClientWithoutCertificateIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = read(path("ca.crt"));
  const auto status = health_over(grpc::SslCredentials(options));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(MutualTlsTest, ClientWithCertificateFromAnotherCaIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = read(path("ca.crt"));
  options.pem_private_key = read(path("rogue-client.key"));
  options.pem_cert_chain = read(path("rogue-client.crt"));
  const auto status = health_over(grpc::SslCredentials(options));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(MutualTlsTest, PlaintextClientIsRefused) {
  const auto status = health_over(grpc::InsecureChannelCredentials());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(MutualTlsTest, MrfpctlSpeaksMutualTls) {
  const std::string mrfpctl = std::string(MRFPCTL_PATH) + " --server 127.0.0.1:" + std::to_string(server_->port());
  const std::string with_certificate =
      mrfpctl + " --tls-cert " + path("client.crt") + " --tls-key " + path("client.key") + " --tls-ca " + path("ca.crt");
  EXPECT_EQ(std::system((with_certificate + " health >/dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((mrfpctl + " --timeout 2 health >/dev/null 2>&1").c_str()), 0);
}

TEST_F(MutualTlsTest, MissingFileIsNamed) {
  ControlServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.tls = TlsFiles{path("server.crt"), path("nope.key"), path("ca.crt")};
  FakeController fake;
  auto server = run_control_server(fake, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().message, "TLS private key: cannot read " + path("nope.key"));
}

TEST_F(MutualTlsTest, TlsAllowsListeningOffLoopback) {
  ControlServerOptions options;
  options.listen_address = "0.0.0.0:0";
  options.tls = TlsFiles{path("server.crt"), path("server.key"), path("ca.crt")};
  FakeController fake;
  auto server = run_control_server(fake, options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  server.value()->shutdown();
}

}  // namespace
}  // namespace mrfp::control::testing
