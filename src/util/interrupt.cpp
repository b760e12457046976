#include "util/interrupt.hpp"

#include "dsm/error.hpp"

#include <atomic>
#include <csignal>

namespace dsm {

namespace {

// Set by the handler, read by every thread (workers poll it between blocks):
// a lock-free atomic, which is both safe in a signal handler and free of
// data races across threads (volatile sig_atomic_t is only the former).
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_signal(int sig) {
  if (g_signal.load(std::memory_order_relaxed) != 0) {
    // Second signal: the user insists. Restore the default and re-raise.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal.store(sig, std::memory_order_relaxed);
}

} // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR promptly
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(sig, &sa, nullptr);
  }
}

bool interrupted() { return g_signal.load(std::memory_order_relaxed) != 0; }

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

void clear_interrupted() { g_signal.store(0, std::memory_order_relaxed); }

void check_interrupted() {
  if (interrupted()) {
    throw Error("interrupted", k_exit_interrupted);
  }
}

} // namespace dsm
