#include "control/tls_options.h"

#include <grpcpp/security/server_credentials.h>

#include <string.h>  // explicit_bzero

#include <fstream>
#include <sstream>

namespace mrfp::control {
namespace {

dataplane::Result<std::string> read_pem(const std::string& path, const char* role) {
  if (path.empty()) {
    return dataplane::Error{dataplane::ErrorCode::InvalidArgument, std::string(role) + ": no file given"};
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return dataplane::Error{dataplane::ErrorCode::InvalidArgument, std::string(role) + ": cannot read " + path};
  std::ostringstream text;
  text << file.rdbuf();
  if (text.str().find("-----BEGIN") == std::string::npos) {
    return dataplane::Error{dataplane::ErrorCode::InvalidArgument, std::string(role) + ": " + path + " is not PEM"};
  }
  return text.str();
}

void wipe(std::string& secret) {
  explicit_bzero(secret.data(), secret.size());
  secret.clear();
}

struct PemSet {
  std::string certificate, private_key, peer_ca;
};

dataplane::Result<PemSet> read_all(const TlsFiles& files) {
  auto certificate = read_pem(files.certificate, "TLS certificate");
  if (!certificate) return certificate.error();
  auto private_key = read_pem(files.private_key, "TLS private key");
  if (!private_key) return private_key.error();
  auto peer_ca = read_pem(files.peer_ca, "TLS peer CA");
  if (!peer_ca) return peer_ca.error();
  return PemSet{certificate.value(), private_key.value(), peer_ca.value()};
}

}  // namespace

dataplane::Result<std::shared_ptr<grpc::ServerCredentials>> mutual_tls_server_credentials(const TlsFiles& files) {
  auto pems = read_all(files);
  if (!pems) return pems.error();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = pems->peer_ca;
  options.pem_key_cert_pairs.push_back({pems->private_key, pems->certificate});
  auto credentials = grpc::SslServerCredentials(options);
  // gRPC keeps its own copy; ours of the private key need not linger.
  wipe(options.pem_key_cert_pairs.front().private_key);
  wipe(pems->private_key);
  return credentials;
}

dataplane::Result<std::shared_ptr<grpc::ChannelCredentials>> mutual_tls_channel_credentials(const TlsFiles& files) {
  auto pems = read_all(files);
  if (!pems) return pems.error();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pems->peer_ca;
  options.pem_private_key = pems->private_key;
  options.pem_cert_chain = pems->certificate;
  auto credentials = grpc::SslCredentials(options);
  wipe(options.pem_private_key);
  wipe(pems->private_key);
  return credentials;
}

}  // namespace mrfp::control
