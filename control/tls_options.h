// Mutual TLS for the Mp interface: keys cross it, so it must be confidential and
// authenticated both ways (TR 33.829 §5). A server given TLS files requires and
// verifies a client certificate and serves no plaintext.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "dataplane/result.h"

namespace mrfp::control {

// PEM files. For a server: its certificate chain and key, and the CA that
// signs client certificates. For a client: its own pair, and the server's CA.
struct TlsFiles {
  std::string certificate;
  std::string private_key;
  std::string peer_ca;
};

dataplane::Result<std::shared_ptr<grpc::ServerCredentials>> mutual_tls_server_credentials(const TlsFiles& files);
dataplane::Result<std::shared_ptr<grpc::ChannelCredentials>> mutual_tls_channel_credentials(const TlsFiles& files);

}  // namespace mrfp::control
