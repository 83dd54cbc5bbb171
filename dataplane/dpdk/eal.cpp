#include "dataplane/dpdk/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>

#include <memory>
#include <mutex>
#include <optional>

namespace mrfp::dataplane {

namespace {

struct EalState {
  std::mutex mutex;
  std::optional<Status> outcome;  // set by the first init_eal
  // rte_eal_init may keep pointers into argv (device arguments): keep them alive
  // for the life of the process.
  std::vector<std::string> storage;
  std::vector<char*> argv;
};

EalState& state() {
  static EalState eal;
  return eal;
}

}  // namespace

Status init_eal(const std::vector<std::string>& args) {
  EalState& eal = state();
  std::lock_guard lock(eal.mutex);
  if (eal.outcome) return *eal.outcome;
  eal.storage.reserve(args.size() + 1);
  eal.storage.push_back("mrfpd");
  eal.storage.insert(eal.storage.end(), args.begin(), args.end());
  for (std::string& arg : eal.storage) eal.argv.push_back(arg.data());
  eal.argv.push_back(nullptr);
  cpu_set_t before{};
  const bool had_affinity = sched_getaffinity(0, sizeof before, &before) == 0;
  const int parsed = rte_eal_init(static_cast<int>(eal.storage.size()), eal.argv.data());
  // EAL pins the calling thread to the main lcore, and every thread it makes
  // later inherits that. Ours is a control thread: give it back the cores it had,
  // so control threads do not crowd one core. Workers pin themselves to worker
  // lcores (DpdkBackend::attach_worker_thread).
  if (parsed >= 0 && had_affinity) sched_setaffinity(0, sizeof before, &before);
  if (parsed < 0) {
    std::string joined;
    for (const std::string& arg : args) joined += " " + arg;
    eal.outcome = Error{ErrorCode::Unavailable,
                        "rte_eal_init(" + joined + " ) failed: " + rte_strerror(rte_errno)};
  } else {
    eal.outcome = ok_status();
  }
  return *eal.outcome;
}

bool eal_initialised() {
  EalState& eal = state();
  std::lock_guard lock(eal.mutex);
  return eal.outcome && eal.outcome->ok();
}

}  // namespace mrfp::dataplane
