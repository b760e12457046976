// Test-only crash points, compiled into every build (CMake option
// DSM_CRASH_POINTS, ON; like git's GIT_TEST_* knobs they cost one getenv and
// do nothing unless set; CONTRIBUTING.md lists the test knobs).
// crash_point("name") kills the process with SIGKILL when the environment
// variable DSM_TEST_CRASH_AT equals "name", so the
// end-to-end tests can prove that every intermediate state of a write
// sequence is one `dsm verify` explains. The points of `dsm add`, in order:
//   add-payload-temp   payload copies written to temp files, not yet named
//   add-payload        payloads linked to their final names
//   add-sidecar        sidecars written
//   add-manifest-temp  manifest rewritten to a temp file, not yet renamed
//   add-manifest       manifest renamed into place, lock still held
// and of the commands that free disk (docs/guarantees.md, "Freeing disk"):
//   rm-manifest        `dsm rm`: manifest rewritten, sidecars not yet deleted
//   drop-recorded      `dsm drop`: .dsm/local/dropped written, nothing unlinked
//   drop-payload       `dsm drop`: after each payload is unlinked
//   gc-sidecar         `dsm gc`: after an unreferenced payload's sidecar is deleted
//   gc-payload         `dsm gc`: after each unreferenced file is deleted
//   gc-remote-object   `dsm gc --remote --yes`: after each object is deleted
#pragma once

namespace dsm {

#if defined(DSM_CRASH_POINTS)
void crash_point(const char* name);
#else
inline void crash_point(const char*) {}
#endif

} // namespace dsm
