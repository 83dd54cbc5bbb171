// mrfpctl's subcommands: one per Mp RPC, plus `events` (follow the stream) and
// `top` (a live view refreshed every second).
#pragma once

#include <CLI/CLI.hpp>

#include "control/mrfpctl/connection.h"

namespace mrfp::control::cli {

// Registers every subcommand; the one that runs stores its exit status in `exit_code`.
void add_commands(CLI::App& app, const Connection& connection, int& exit_code);

// The live view; `refreshes` 0 runs until interrupted.
int run_top(const Connection& connection, double interval_seconds, unsigned refreshes);

}  // namespace mrfp::control::cli
