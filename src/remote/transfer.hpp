// Parallel transfers: --jobs workers over one ObjectStore, a progress bar on
// a terminal, and a report of every failure (no stop at the first one for
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

// A one-line progress bar on stderr, redrawn at most 5 times a second by its
// own thread. Disabled (no output at all) unless `enabled`.
class Progress {
public:
  Progress(std::string verb, size_t total_items, uint64_t total_bytes, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Also where a Ctrl-C stops a transfer: every store reports its blocks
  // here, so the worker throws Error("interrupted", 130) between blocks and
  // the store's own cleanup (temp file, abandoned multipart) runs.
  void add_bytes(int64_t delta) {
    check_interrupted();
    m_bytes.fetch_add(delta, std::memory_order_relaxed);
  }
  void item_done() { m_items.fetch_add(1, std::memory_order_relaxed); }
  // Clears the bar; called by the destructor too.
  void finish();

private:
  void draw(bool final);
  void loop();

  std::string m_verb;
  size_t m_total_items;
  uint64_t m_total_bytes;
  bool m_enabled;
  std::atomic<int64_t> m_bytes{0};
  std::atomic<size_t> m_items{0};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::thread m_thread;
  std::chrono::steady_clock::time_point m_start;
};

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
