#include "util/text.hpp"
#include "remote/transfer.hpp"

#include "dsm/error.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace dsm::remote {

std::string human_bytes(uint64_t n) { return util::human_size(n); }

Progress::Progress(std::string verb, size_t total_items, uint64_t total_bytes, bool enabled)
  : m_verb(std::move(verb)), m_total_items(total_items), m_total_bytes(total_bytes), m_enabled(enabled),
    m_start(std::chrono::steady_clock::now()) {
  if (m_enabled) {
    m_thread = std::thread([this] { loop(); });
  }
}

Progress::~Progress() { finish(); }

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
  draw(true);
}

void Progress::loop() {
  std::unique_lock<std::mutex> lock(m_mutex);
  while (!m_stop) {
    m_cv.wait_for(lock, std::chrono::milliseconds(200));
    if (!m_stop) {
      draw(false);
    }
  }
}

void Progress::draw(bool final) {
  constexpr int k_width = 30;
  int64_t bytes = std::max<int64_t>(0, m_bytes.load(std::memory_order_relaxed));
  size_t items = m_items.load(std::memory_order_relaxed);
  double frac = m_total_bytes > 0 ? static_cast<double>(bytes) / static_cast<double>(m_total_bytes)
                                  : (m_total_items > 0 ? static_cast<double>(items) / static_cast<double>(m_total_items) : 1.0);
  frac = std::clamp(frac, 0.0, 1.0);
  int filled = static_cast<int>(frac * k_width);
  std::string bar(static_cast<size_t>(filled), '=');
  bar.resize(k_width, ' ');
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  double rate = secs > 0 ? static_cast<double>(bytes) / secs : 0;
  if (final) {
    // Erase the bar: the command prints its own summary.
    std::fprintf(stderr, "\r\033[K");
  } else {
    std::fprintf(stderr, "\r%s [%s] %zu/%zu, %s/%s, %s/s\033[K", m_verb.c_str(), bar.c_str(), items, m_total_items,
                 human_bytes(static_cast<uint64_t>(bytes)).c_str(), human_bytes(m_total_bytes).c_str(),
                 human_bytes(static_cast<uint64_t>(rate)).c_str());
  }
  std::fflush(stderr);
}

std::vector<Failure> run_parallel(size_t count, unsigned jobs, const std::function<void(size_t)>& work) {
  std::vector<Failure> failures;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  auto worker = [&] {
    while (!stop.load()) {
      size_t i = next.fetch_add(1);
      if (i >= count) {
        return;
      }
      try {
        work(i);
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(mutex);
        failures.push_back({i, e.what(), e.exit_code()});
        if (e.exit_code() != k_exit_problems) {
          stop = true;
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        failures.push_back({i, e.what(), k_exit_error});
        stop = true;
      }
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(std::max<size_t>(count, 1))));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t) {
    threads.emplace_back(worker);
  }
  worker();
  for (auto& t : threads) {
    t.join();
  }
  // Items never started because a worker stopped the run are not done
  // either: callers count successes as count - failures.
  if (stop.load() && !failures.empty()) {
    int code = failures.front().exit_code;
    for (const Failure& f : failures) {
      code = std::max(code, f.exit_code);
    }
    for (size_t i = std::min(next.load(), count); i < count; ++i) {
      failures.push_back({i, code == k_exit_interrupted ? "interrupted" : "not attempted (stopped by the error above)",
                          code});
    }
  }
  std::sort(failures.begin(), failures.end(), [](const Failure& a, const Failure& b) { return a.index < b.index; });
  return failures;
}

} // namespace dsm::remote
