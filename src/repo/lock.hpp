// The two locks of a repository.
//
// RepoLock, `.dsm/local/lock`: serialises the short critical
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

class Repository;
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

// Held shared by every `dsm add` from before its first temp file until it
// exits; `dsm repair` holds it exclusively, so a temp file repair sees can
// only belong to a process that died. A flock(2) on `.dsm/local/active`:
// the kernel drops it when its holder dies, even by SIGKILL, so a crash can
// never leave it stuck (unlike a pid file).
class ActivityLock {
public:
  enum class Mode { shared, exclusive };
  // Waits up to `timeout`; then throws Error naming what it waited for.
  ActivityLock(const Repository& repo, Mode mode, std::chrono::milliseconds timeout);
  ~ActivityLock();
  ActivityLock(const ActivityLock&) = delete;
  ActivityLock& operator=(const ActivityLock&) = delete;

private:
  int m_fd = -1;
};

} // namespace dsm
