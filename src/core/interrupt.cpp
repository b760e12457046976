#include "dsm/interrupt.hpp"

#include "dsm/error.hpp"

#include <csignal>

namespace dsm {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
  if (g_signal != 0) {
    // Second signal: the user insists. Restore the default and re-raise.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
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

bool interrupted() { return g_signal != 0; }

void check_interrupted() {
  if (g_signal != 0) {
    throw Error("interrupted", k_exit_interrupted);
  }
}

} // namespace dsm
