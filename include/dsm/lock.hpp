// The repository lock, `.dsm/local/lock`: serialises the short critical
// section of `dsm add` (choosing sequence numbers, publishing payloads,
// rewriting the manifest).
//
// File content: "<pid> <host> <unix time>\n". It is created complete (a
// temp file linked into place, like git's lockfiles with O_EXCL), so a
// reader never sees a half-written holder. A lock whose holder is dead on
// this host is stale and is taken over; breaking it happens under a second
// lock (`lock.break`) and re-checks that the same stale file is still there,
// so two processes cannot both break it and one delete the other's fresh
// lock. A live holder (or one on another host) is waited for, up to a
// timeout, then the error names the holder.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace dsm {

namespace fs = std::filesystem;

class RepoLock {
public:
  // Blocks until acquired or `timeout` passes (then throws Error naming the
  // holder, exit 2). Checks for interrupts while waiting.
  RepoLock(fs::path path, std::chrono::milliseconds timeout);
  ~RepoLock();
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;
  void release();

private:
  fs::path m_path;
  std::string m_content;
  bool m_held = false;
};

// DSM_LOCK_TIMEOUT (seconds, may be fractional) or 30 s.
std::chrono::milliseconds lock_timeout_from_env();

// The host name used in lock files and sidecars.
std::string host_name();

} // namespace dsm
