#include "util/text.hpp"
#include "remote/transfer.hpp"

#include "dsm/error.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace dsm::remote {

std::string human_bytes(uint64_t n) { return util::human_size(n); }

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
