// mrfpctl: drive an MRFP over the Mp API from a shell.
//   mrfpctl --server 127.0.0.1:50051 create-conference --codec pcmu --key 00112233... --salt ...
//   mrfpctl --json audit
// Keys are given in hexadecimal by default, or base64 with --key-encoding base64;
// "@FILE" reads the value from a file, which keeps it out of the process list.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "control/mrfpctl/commands.h"
#include "control/mrfpctl/connection.h"

int main(int argc, char** argv) {
  CLI::App app{"mrfpctl: control an MRFP conference mixer over the Mp gRPC API"};
  mrfp::control::cli::Connection connection;
  app.add_option("--server", connection.server, "HOST:PORT of mrfpd's control API")->capture_default_str();
  app.add_option("--tls-cert", connection.tls_cert, "client certificate (PEM) for mutual TLS");
  app.add_option("--tls-key", connection.tls_key, "client private key (PEM)");
  app.add_option("--tls-ca", connection.tls_ca, "CA of the server certificate (PEM)");
  app.add_option("--timeout", connection.timeout_seconds, "seconds per call")->capture_default_str();
  app.add_flag("--json", connection.json, "print replies as JSON");
  app.require_subcommand(1);

  int exit_code = 0;
  mrfp::control::cli::add_commands(app, connection, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 2;
  }
  return exit_code;
}
