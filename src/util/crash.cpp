#include "util/crash.hpp"

#if defined(DSM_CRASH_POINTS)
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace dsm {

void crash_point(const char* name) {
  static const char* const at = std::getenv("DSM_TEST_CRASH_AT");
  if (at && std::strcmp(at, name) == 0) {
    std::raise(SIGKILL);
  }
}

} // namespace dsm
#endif
