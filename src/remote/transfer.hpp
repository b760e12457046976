// Parallel transfers: --jobs workers over one ObjectStore (progress:
// util/progress.hpp), and a report of every failure (no stop at the first one for
// per-object problems; a store-wide error stops new work being started).
#pragma once

#include "util/interrupt.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dsm::remote {

struct Failure {
  size_t index;        // which item
  std::string message; // the Error's text
  int exit_code;       // 1 problem found (corrupt data), 2 error
};

// Runs work(i) for i in [0, count) on `jobs` threads. A throw of dsm::Error
// is recorded; after a failure with exit code 2 or 130 (the store failing:
// network down, credentials refused; Ctrl-C) no new items start, and those
// never started are returned as failures too. Returns failures
// sorted by index.
std::vector<Failure> run_parallel(size_t count, unsigned jobs, const std::function<void(size_t)>& work);

// "12.0 MiB".
std::string human_bytes(uint64_t n);

} // namespace dsm::remote
