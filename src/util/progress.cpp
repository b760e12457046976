#include "util/progress.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dsm::util {

Progress::Progress(std::string verb, bool enabled)
    : m_verb(std::move(verb)), m_enabled(enabled), m_start(std::chrono::steady_clock::now()) {
  if (const char* ms = std::getenv("DSM_TEST_PROGRESS_MS"); ms != nullptr && std::atoi(ms) > 0) {
    m_delay = m_interval = std::chrono::milliseconds(std::atoi(ms));
  }
  if (m_enabled) {
    m_thread = std::thread([this] { loop(); });
  }
}

Progress::~Progress() {
  finish();
}

void Progress::set_total(uint64_t items, uint64_t bytes) {
  m_total_items.store(items, std::memory_order_relaxed);
  m_total_bytes.store(bytes, std::memory_order_relaxed);
}

void Progress::finish() {
  if (!m_thread.joinable()) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_thread.join();
  if (m_drew) {
    // Erase the line: the command prints its own summary.
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

void Progress::loop() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_cv.wait_for(lock, m_delay, [this] { return m_stop; });
  while (!m_stop) {
    if (m_total_bytes.load(std::memory_order_relaxed) > 0 ||
        m_total_items.load(std::memory_order_relaxed) > 0) {
      draw();
    }
    m_cv.wait_for(lock, m_interval, [this] { return m_stop; });
  }
}

namespace {

// "0:07", "12:34", "1:02:03".
std::string clock_text(double seconds) {
  auto s = static_cast<uint64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  }
  return buf;
}

} // namespace

std::string Progress::render(const std::string& verb, uint64_t items, uint64_t total_items, int64_t bytes,
                             uint64_t total_bytes, double seconds) {
  constexpr int k_width = 24;
  uint64_t done = static_cast<uint64_t>(std::max<int64_t>(0, bytes));
  double frac = total_bytes > 0
                    ? static_cast<double>(done) / static_cast<double>(total_bytes)
                    : (total_items > 0 ? static_cast<double>(items) / static_cast<double>(total_items) : 1.0);
  frac = std::clamp(frac, 0.0, 1.0);
  auto filled = static_cast<size_t>(frac * k_width);
  std::string bar(filled, '=');
  if (filled < k_width) {
    bar += '>';
  }
  bar.resize(k_width, ' ');
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100));
  std::string out = verb + " " + pct + " [" + bar + "] " + human_size(done) + " / " + human_size(total_bytes);
  if (total_items > 1) {
    out += ", " + std::to_string(std::min(items, total_items)) + " of " + std::to_string(total_items);
  }
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  out += ", " + human_size(static_cast<uint64_t>(rate)) + "/s";
  if (rate > 0 && done < total_bytes) {
    out += ", ETA " + clock_text(static_cast<double>(total_bytes - done) / rate);
  }
  return out;
}

void Progress::draw() {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  std::string line =
      render(m_verb, m_items.load(std::memory_order_relaxed), m_total_items.load(std::memory_order_relaxed),
             m_bytes.load(std::memory_order_relaxed), m_total_bytes.load(std::memory_order_relaxed), secs);
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  m_drew = true;
}

} // namespace dsm::util
