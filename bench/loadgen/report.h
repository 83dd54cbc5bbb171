// Presenting a load run: the human summary, the JSON file, a key=value file
// for shell scripts (the capacity runner), and the sampled listener's WAV.
#pragma once

#include <ostream>
#include <string>

#include "bench/loadgen/load_run.h"

namespace mrfp::loadgen {

void print_summary(const LoadResult& result, std::ostream& out);
void write_json(const LoadResult& result, const std::string& path);
void write_summary_kv(const LoadResult& result, const std::string& path);
// 16-bit mono PCM RIFF/WAVE.
void write_wav(const LoadResult& result, const std::string& path);

}  // namespace mrfp::loadgen
