// The one progress reporter: a line on stderr with bytes, rate and ETA,
// redrawn about 5 times a second by its own thread while workers count
// bytes (git's progress.c: a terminal only, on stderr, erased at the end).
// add, compress, export, push, pull and verify count every byte as it is
// read or sent, so the line moves within one large file.
//
// Whether to draw is the command's decision (commands/context.hpp:
// Context::show_progress(): stderr is a terminal, no -q, no --no-progress);
// a disabled reporter starts no thread and prints nothing, so the layers
// below count bytes unconditionally.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace dsm::util {

class Progress {
public:
  // `verb` starts the line ("verify", "push"). Nothing is drawn before
  // set_total, nor in the first k_delay (a command that finishes quickly
  // prints no bar).
  Progress(std::string verb, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // The first draw waits k_delay, then one every k_interval; the test knob
  // DSM_TEST_PROGRESS_MS=N sets both to N ms (CONTRIBUTING.md), so a test
  // sees many frames within one file of a few hundred MiB.
  static constexpr std::chrono::milliseconds k_delay{300};
  static constexpr std::chrono::milliseconds k_interval{200};

  // What 100% is: items (files, payloads) and their bytes. May be called
  // again when the work turns out larger.
  void set_total(uint64_t items, uint64_t bytes);
  // Thread-safe; `delta` may be negative (a retried upload takes back what
  // it had sent).
  void add_bytes(int64_t delta) { m_bytes.fetch_add(delta, std::memory_order_relaxed); }
  void item_done() { m_items.fetch_add(1, std::memory_order_relaxed); }
  // Stops the thread and erases the line; the destructor calls it too.
  void finish();

  bool enabled() const { return m_enabled; }

  // The line drawn for these figures (without "\r" and the erase code), for
  // tests: "verify  42% [=====>      ] 430 MiB / 1.0 GiB, 210 MiB/s, ETA 0:03".
  static std::string render(const std::string& verb, uint64_t items, uint64_t total_items, int64_t bytes,
                            uint64_t total_bytes, double seconds);

private:
  void loop();
  void draw();

  std::string m_verb;
  bool m_enabled;
  std::atomic<int64_t> m_bytes{0};
  std::atomic<uint64_t> m_items{0};
  std::atomic<uint64_t> m_total_items{0};
  std::atomic<uint64_t> m_total_bytes{0};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  bool m_drew = false;
  std::thread m_thread;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::milliseconds m_delay = k_delay;
  std::chrono::milliseconds m_interval = k_interval;
};

} // namespace dsm::util
