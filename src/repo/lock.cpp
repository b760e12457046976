#include "repo/lock.hpp"

#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace dsm {

namespace {

struct Holder {
  long pid = 0;
  std::string host;
  long long since = 0;
  bool parsed = false;
};

Holder parse_holder(const std::string& content) {
  Holder h;
  std::istringstream in(content);
  if (in >> h.pid >> h.host >> h.since) {
    h.parsed = h.pid > 0;
  }
  return h;
}

std::string describe(const Holder& h) {
  if (!h.parsed) {
    return "an unknown process";
  }
  std::time_t t = static_cast<std::time_t>(h.since);
  char buf[32] = "?";
  std::tm tm {};
  if (gmtime_r(&t, &tm)) {
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  return "process " + std::to_string(h.pid) + " on " + h.host + " (since " + buf + ")";
}

// The holder is known to be gone: same host, and no such process.
bool holder_dead(const Holder& h) {
  if (!h.parsed || h.host != host_name()) {
    return false;
  }
  return ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH;
}

std::optional<std::string> read_lock(const fs::path& path) {
  // Never through a symlink, never blocking on a FIFO (a committed
  // .dsm/local/lock of either kind).
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw Error("cannot read lock " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  util::Fd guard(fd);
  char buf[512];
  size_t n = util::read_some(fd, buf, sizeof buf, path);
  return std::string(buf, n);
}

// Creates `path` holding `content`, complete, or returns false (EEXIST).
bool try_create(const fs::path& path, const std::string& content) {
  fs::path temp = path.parent_path() /
                  (std::string(util::k_temp_prefix) + path.filename().string() + "." + std::to_string(::getpid()) + "." +
                  std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error("cannot create lock " + quote(temp.string()) + ": " + util::errno_message(errno));
  }
  {
    util::Fd guard(fd);
    util::write_all(fd, content.data(), content.size(), temp);
  }
  int rc = ::link(temp.c_str(), path.c_str());
  int err = errno;
  ::unlink(temp.c_str());
  if (rc == 0) {
    return true;
  }
  if (err == EEXIST) {
    return false;
  }
  throw Error("cannot create lock " + quote(path.string()) + ": " + util::errno_message(err));
}

std::string my_content() {
  return std::to_string(::getpid()) + " " + host_name() + " " + std::to_string(std::time(nullptr)) + "\n";
}

// Removes a stale lock whose content is still `stale`, under `<lock>.break`.
void break_stale(const fs::path& path, const std::string& stale) {
  fs::path breaker = path;
  breaker += ".break";
  if (!try_create(breaker, my_content())) {
    // Someone else is breaking it; if that breaker died, clear its marker.
    std::optional<std::string> other = read_lock(breaker);
    if (other && holder_dead(parse_holder(*other))) {
      ::unlink(breaker.c_str());
    }
    return;
  }
  std::optional<std::string> now = read_lock(path);
  if (now && *now == stale) {
    ::unlink(path.c_str());
  }
  ::unlink(breaker.c_str());
}

} // namespace

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
    return "unknown-host";
  }
  std::string h(buf);
  for (char& c : h) {
    if (c == ' ' || c == '\n') {
      c = '_';
    }
  }
  return h;
}

std::chrono::milliseconds lock_timeout_from_env() {
  const char* env = std::getenv("DSM_LOCK_TIMEOUT");
  if (env && *env) {
    char* end = nullptr;
    double s = std::strtod(env, &end);
    if (end && *end == '\0' && s >= 0 && s < 1e7) {
      return std::chrono::milliseconds(static_cast<long long>(s * 1000));
    }
    throw Error("invalid DSM_LOCK_TIMEOUT " + quote(env) + " (expected seconds)");
  }
  return std::chrono::seconds(30);
}

RepoLock::RepoLock(fs::path path, std::chrono::milliseconds timeout) : m_path(std::move(path)) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::microseconds(500);
  m_content = my_content();
  while (true) {
    check_interrupted();
    if (try_create(m_path, m_content)) {
      m_held = true;
      return;
    }
    std::optional<std::string> content = read_lock(m_path);
    if (!content) {
      continue; // released between our attempt and the read
    }
    Holder holder = parse_holder(*content);
    if (holder_dead(holder)) {
      break_stale(m_path, *content);
      continue;
    }
    if (Clock::now() >= deadline) {
      throw Error("cannot lock the repository: " + quote(m_path.string()) + " is held by " + describe(holder) +
                  "; waited " + std::to_string(static_cast<double>(timeout.count()) / 1000.0).substr(0, 5) +
                  " s (DSM_LOCK_TIMEOUT). If no dsm is running there, remove the lock file");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(50000));
  }
}

RepoLock::~RepoLock() { release(); }

void RepoLock::release() {
  if (!m_held) {
    return;
  }
  m_held = false;
  // Only our own lock: after a takeover by someone who judged us dead we
  // must not delete theirs.
  try {
    std::optional<std::string> content = read_lock(m_path);
    if (content && *content == m_content) {
      ::unlink(m_path.c_str());
    }
  } catch (const Error&) {
    // Unreadable lock at release: leave it; the next taker judges it stale.
  }
}

namespace {

std::string seconds_text(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

} // namespace

ActivityLock::ActivityLock(const Repository& repo, Mode mode, std::chrono::milliseconds timeout) {
  repo.ensure_local_dir();
  fs::path path = repo.local_dir() / "active";
  // O_NOFOLLOW: a committed .dsm/local/active symlink must not make this
  // create (or open for writing) a file elsewhere; O_NONBLOCK: nor a FIFO
  // hang it.
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (m_fd < 0) {
    if (errno == ELOOP) {
      throw Error("refusing " + quote(path.string()) +
                  ": it is a symlink, and dsm never follows symlinks for its own files (remove it)");
    }
    throw Error("cannot open " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  struct stat st {};
  if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(m_fd);
    m_fd = -1;
    throw Error("refusing " + quote(path.string()) + ": not a regular file (remove it)");
  }
  const int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(m_fd, op) != 0) {
    int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (err != EWOULDBLOCK) {
      ::close(m_fd);
      throw Error("cannot lock " + quote(path.string()) + ": " + util::errno_message(err));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(m_fd);
      m_fd = -1;
      throw Error(mode == Mode::shared
                    ? "timed out after " + seconds_text(timeout) + "s waiting for 'dsm repair' to finish (it holds " +
                        quote(path.string()) + "; set DSM_LOCK_TIMEOUT to wait longer)"
                    : "timed out after " + seconds_text(timeout) +
                        "s waiting for running 'dsm add' commands to finish (they hold " + quote(path.string()) +
                        "; set DSM_LOCK_TIMEOUT to wait longer)");
    }
    try {
      check_interrupted();
    } catch (...) {
      ::close(m_fd);
      m_fd = -1;
      throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ActivityLock::~ActivityLock() {
  if (m_fd >= 0) {
    ::close(m_fd); // drops the flock
  }
}

} // namespace dsm
