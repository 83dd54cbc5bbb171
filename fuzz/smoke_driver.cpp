// Runs a fuzz entry point without libFuzzer: the seed packets, then a few thousand
// deterministic mutations of them (bit flips, byte sets, truncations, extensions,
// insertions, splices) and random buffers, each in an exact-size heap buffer so
// ASan catches any over-read. Built with gcc as a ctest smoke test, and as the
// seed corpus writer of scripts/fuzz.sh (--write-seeds DIR).
//   <target>_fuzz_smoke [iterations]          default 4000
//   <target>_fuzz_smoke --write-seeds DIR
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "fuzz/seed_packets.h"

#ifndef MRFP_FUZZ_TARGET_NAME
#error "define MRFP_FUZZ_TARGET_NAME to the fuzz target's name"
#endif

namespace {

// xorshift64*: deterministic across runs and compilers.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  std::size_t below(std::size_t bound) { return bound == 0 ? 0 : static_cast<std::size_t>(next() % bound); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(next() >> 56); }

 private:
  std::uint64_t state_;
};

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> input, const std::vector<std::uint8_t>& other,
                                 Random& random) {
  const std::size_t rounds = 1 + random.below(4);
  for (std::size_t round = 0; round < rounds; ++round) {
    switch (random.below(7)) {
      case 0:  // flip one bit
        if (!input.empty()) input[random.below(input.size())] ^= static_cast<std::uint8_t>(1u << random.below(8));
        break;
      case 1:  // set a byte to an interesting value
        if (!input.empty()) {
          static constexpr std::uint8_t kInteresting[] = {0x00, 0x01, 0x0F, 0x10, 0x7F, 0x80, 0xBE, 0xDE, 0xC8, 0xFF};
          input[random.below(input.size())] = kInteresting[random.below(sizeof kInteresting)];
        }
        break;
      case 2:  // truncate
        input.resize(random.below(input.size() + 1));
        break;
      case 3:  // extend with random bytes
        for (std::size_t n = random.below(16) + 1; n > 0; --n) input.push_back(random.byte());
        break;
      case 4:  // insert a random byte
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(random.below(input.size() + 1)), random.byte());
        break;
      case 5:  // random byte anywhere
        if (!input.empty()) input[random.below(input.size())] = random.byte();
        break;
      default: {  // splice the tail of another seed
        const std::size_t keep = random.below(input.size() + 1);
        const std::size_t from = random.below(other.size() + 1);
        input.resize(keep);
        input.insert(input.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
    }
  }
  return input;
}

void run_one(const std::vector<std::uint8_t>& input) {
  // An exact-size allocation (never data() of an empty vector) so a read one past
  // the end is a heap overflow ASan reports.
  const std::size_t size = input.size();
  auto* copy = static_cast<std::uint8_t*>(std::malloc(size == 0 ? 1 : size));
  if (size != 0) std::memcpy(copy, input.data(), size);
  LLVMFuzzerTestOneInput(copy, size);
  std::free(copy);
}

int write_seeds(const std::string& directory) {
  const auto seeds = mrfp::fuzz::seed_packets(MRFP_FUZZ_TARGET_NAME);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    const std::string path = directory + "/seed_" + std::to_string(i);
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
    if (!file) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("%zu seeds for %s written to %s\n", seeds.size(), MRFP_FUZZ_TARGET_NAME, directory.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 4000;
  const auto seeds = mrfp::fuzz::seed_packets(MRFP_FUZZ_TARGET_NAME);
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds for target %s\n", MRFP_FUZZ_TARGET_NAME);
    return 1;
  }
  Random random(0x6D726670);  // "mrfp"
  std::size_t executions = 0;
  for (const auto& seed : seeds) {
    run_one(seed);
    // Every prefix of every seed: the truncation cases.
    for (std::size_t length = 0; length < seed.size(); ++length) {
      run_one(std::vector<std::uint8_t>(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(length)));
      ++executions;
    }
  }
  for (long i = 0; i < iterations; ++i) {
    const auto& seed = seeds[random.below(seeds.size())];
    const auto& other = seeds[random.below(seeds.size())];
    if (i % 10 == 9) {
      std::vector<std::uint8_t> noise(random.below(256));
      for (auto& byte : noise) byte = random.byte();
      run_one(noise);
    } else {
      run_one(mutate(seed, other, random));
    }
    ++executions;
  }
  std::printf("%s: %zu executions, no crash\n", MRFP_FUZZ_TARGET_NAME, executions + seeds.size());
  return 0;
}
