// Ctrl-C (SIGINT), SIGTERM and SIGHUP: instead of dying mid-write, dsm sets
// a flag, and long-running code calls check_interrupted() at safe points,
// which throws Error("interrupted", 130) so destructors remove temp files
// and release the lock. A second signal while one is pending kills at once.
#pragma once

namespace dsm {

// Installs the handlers (idempotent).
void install_interrupt_handlers();
bool interrupted();
// Forgets a signal that arrived (a host that outlives the interrupted call:
// the Python package, through dsm::api::InterruptScope).
void clear_interrupted();
// The signal that arrived (0: none).
int interrupt_signal();
// Throws Error("interrupted", k_exit_interrupted) when a signal arrived.
void check_interrupted();

} // namespace dsm
