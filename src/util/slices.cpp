// for_each_slice: small files by 64 KiB read()s; large files in 8 MiB
// windows, each either read() in 64 KiB pieces or mapped, whichever costs
// this process less CPU per byte: measured, not assumed.
//
// Why measure at run time: the same binary on the same kind of VM found
// mapped windows 91-98% of `openssl speed` and 64 KiB reads 77-85% on one
// host kernel (2026-11), and the reverse (reads 89%, mapped 84%, page
// faults and unmapping being dear there) on another (2026-12); see
// docs/benchmarks.md, "How verify reads a file". So the first 64 MiB of
// large-file reading in a process alternate the two ways window by window,
// each timed in thread CPU time (which excludes waiting, and the other
// threads' work), and the cheaper way reads the rest. The trial costs at
// most the gap between the two on 32 MiB.
//
// A mapped file that someone truncates makes the pages past the new end fault
// with SIGBUS. Two guards were considered:
//  - fstat before each window: narrows the race but cannot close it (the
//    truncation can land between the fstat and the access), so alone it is not
//    enough to promise that dsm never dies of SIGBUS.
//  - a SIGBUS handler. The classic form longjmps out of the faulting access,
//    but the access happens inside the caller's decoder and sink (C++ frames
//    with destructors, locks, a payload file being written): jumping over them
//    is undefined behaviour. So the handler here does not jump: when the fault
//    lies in the window the faulting thread registered, it maps an anonymous
//    zero page over the faulting page, notes the fault in a thread-local flag
//    and returns, so the access is retried and reads zeros. The pass then
//    carries on with wrong bytes that nobody will use: after each slice (and
//    when the decoder throws on the zeros) the flag turns the whole pass into
//    SliceEnd::shrank, i.e. the existing "file shrank while being read" error.
// Faults outside a registered window go to the previous disposition (the
// default action, or a sanitizer's handler), so real bugs still crash loudly.
// The handler only compares integers, calls mmap (a plain system call in
// glibc, no user-space locks) and writes a sig_atomic_t. fstat before each
// window is kept as well: it ends the pass early and cheaply when the file is
// already shorter, without a fault per missing page.
#include "util/slices.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dsm::util {

namespace {

// The window the current thread is reading; SIGBUS is delivered to the thread
// whose access faulted, so a thread-local registration is exact even with
// parallel verify workers. Trivial types with constant initialisation: safe
// to touch from the handler.
struct Window {
  uintptr_t base;
  size_t size;
  volatile sig_atomic_t faulted;
};
thread_local constinit Window t_window{0, 0, 0};

struct sigaction g_previous {};
uintptr_t g_page_mask = 0;
std::once_flag g_install_once;

void on_sigbus(int sig, siginfo_t* info, void* context) {
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (t_window.size != 0 && addr >= t_window.base && addr - t_window.base < t_window.size) {
    void* page = reinterpret_cast<void*>(addr & g_page_mask);
    void* r = ::mmap(page, ~g_page_mask + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (r != MAP_FAILED) {
      t_window.faulted = 1;
      return; // the access is retried and reads zeros
    }
  }
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler == SIG_DFL || g_previous.sa_handler == SIG_IGN) {
    // Restore the default and return: the access faults again and the
    // process dies of SIGBUS as it would have without dsm's handler.
    ::sigaction(SIGBUS, &g_previous, nullptr);
    return;
  }
  g_previous.sa_handler(sig);
}

void install_handler() {
  std::call_once(g_install_once, [] {
    g_page_mask = ~(static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE)) - 1);
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous);
  });
}

// One mapped window, registered for the handler while it lives.
class MappedWindow {
public:
  MappedWindow(void* base, size_t size) : m_base(base), m_size(size) {
    t_window.faulted = 0;
    t_window.base = reinterpret_cast<uintptr_t>(base);
    t_window.size = size;
  }
  ~MappedWindow() {
    t_window.size = 0;
    ::munmap(m_base, m_size);
  }
  MappedWindow(const MappedWindow&) = delete;
  MappedWindow& operator=(const MappedWindow&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(m_base); }
  static bool faulted() { return t_window.faulted != 0; }

private:
  void* m_base;
  size_t m_size;
};

uint64_t current_size(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + errno_message(errno));
  }
  return static_cast<uint64_t>(st.st_size);
}

size_t pread_some(int fd, uint8_t* out, size_t size, uint64_t offset, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t r = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot read " + quote(path.string()) + ": " + errno_message(errno));
    }
    if (r == 0) {
      break;
    }
    done += static_cast<size_t>(r);
  }
  return done;
}

// 64 KiB: the read() size that measured fastest on both hosts (the copy's
// destination stays in L1/L2); 4 MiB buffers were 30% slower per CPU second
// on the first, 128 KiB-1 MiB the same as 64 KiB on the second.
constexpr size_t k_read_buffer = 64u << 10;

// Bytes [offset, end) by pread in k_read_buffer pieces. Returns false when
// the file ended first (it shrank).
bool read_range(int fd, uint64_t offset, uint64_t end, std::vector<uint8_t>& buffer, const std::filesystem::path& path,
                const std::function<void(const uint8_t*, size_t)>& fn) {
  while (offset < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - offset));
    size_t n = pread_some(fd, buffer.data(), want, offset, path);
    if (n != 0) {
      fn(buffer.data(), n);
    }
    offset += n;
    if (n < want) {
      return false;
    }
  }
  return true;
}

SliceEnd end_of_read(int fd, uint64_t size, const std::filesystem::path& path) {
  uint8_t extra = 0;
  return pread_some(fd, &extra, 1, size, path) != 0 ? SliceEnd::grew : SliceEnd::complete;
}

// The two ways of reading a large file's window, and the process-wide trial
// that picks one (see the top of this file).
enum class Way { read = 0, map = 1 };

class WayChooser {
public:
  Way next() const {
    int chosen = m_chosen.load(std::memory_order_relaxed);
    if (chosen >= 0) {
      return static_cast<Way>(chosen);
    }
    // Alternate: the way with fewer bytes measured goes next.
    return m_bytes[0].load(std::memory_order_relaxed) <= m_bytes[1].load(std::memory_order_relaxed) ? Way::read
                                                                                                  : Way::map;
  }
  void record(Way way, uint64_t bytes, int64_t cpu_ns) {
    if (m_chosen.load(std::memory_order_relaxed) >= 0 || cpu_ns <= 0) {
      return;
    }
    auto w = static_cast<size_t>(way);
    m_ns[w] += static_cast<uint64_t>(cpu_ns);
    m_bytes[w] += bytes;
    uint64_t read_bytes = m_bytes[0].load();
    uint64_t map_bytes = m_bytes[1].load();
    if (read_bytes >= k_trial_bytes && map_bytes >= k_trial_bytes) {
      // ns per byte, compared without dividing: read_ns / read_bytes <= map_ns / map_bytes.
      double read_cost = static_cast<double>(m_ns[0].load()) * static_cast<double>(map_bytes);
      double map_cost = static_cast<double>(m_ns[1].load()) * static_cast<double>(read_bytes);
      int expected = -1;
      m_chosen.compare_exchange_strong(expected, static_cast<int>(read_cost <= map_cost ? Way::read : Way::map));
    }
  }

private:
  static constexpr uint64_t k_trial_bytes = 32u << 20; // per way
  std::atomic<uint64_t> m_bytes[2]{};
  std::atomic<uint64_t> m_ns[2]{};
  std::atomic<int> m_chosen{-1};
};

WayChooser g_chooser;

int64_t thread_cpu_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

enum class WindowEnd { done, shrank, unmappable };

// One window [offset, offset + window) mapped and handed out in k_slice
// slices; `unmappable` when mmap refuses (some FUSE mounts).
WindowEnd map_window(int fd, uint64_t offset, size_t window, const std::filesystem::path& path,
                     const std::function<void(const uint8_t*, size_t)>& fn) {
  install_handler();
  if (current_size(fd, path) < offset + window) {
    return WindowEnd::shrank;
  }
  void* base = ::mmap(nullptr, window, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, static_cast<off_t>(offset));
  if (base == MAP_FAILED) {
    return WindowEnd::unmappable;
  }
  MappedWindow mapped(base, window);
  ::madvise(base, window, MADV_SEQUENTIAL);
  try {
    for (size_t at = 0; at < window; at += k_slice) {
      fn(mapped.data() + at, std::min(k_slice, window - at));
      if (MappedWindow::faulted()) {
        return WindowEnd::shrank;
      }
    }
  } catch (...) {
    if (MappedWindow::faulted() || current_size(fd, path) < offset + window) {
      return WindowEnd::shrank;
    }
    throw;
  }
  return WindowEnd::done;
}

} // namespace

SliceEnd for_each_slice(int fd, uint64_t size, const std::filesystem::path& path,
                        const std::function<void(const uint8_t*, size_t)>& fn, SliceSource source,
                        const std::function<void(uint64_t end)>& ready) {
  std::vector<uint8_t> buffer;
  auto read_buffer = [&]() -> std::vector<uint8_t>& {
    if (buffer.empty()) {
      buffer.resize(static_cast<size_t>(std::clamp<uint64_t>(size, 1, k_read_buffer)));
    }
    return buffer;
  };
  if (source == SliceSource::read || (source == SliceSource::automatic && size < k_map_min_size)) {
    for (uint64_t offset = 0; offset < size; offset += k_map_window) {
      uint64_t end = std::min<uint64_t>(size, offset + k_map_window);
      if (ready) {
        ready(end);
      }
      if (!read_range(fd, offset, end, read_buffer(), path, fn)) {
        return SliceEnd::shrank;
      }
    }
    return end_of_read(fd, size, path);
  }
  bool can_map = true;
  for (uint64_t offset = 0; offset < size;) {
    size_t window = static_cast<size_t>(std::min<uint64_t>(k_map_window, size - offset));
    if (ready) {
      ready(offset + window);
    }
    Way way = source == SliceSource::map ? Way::map : g_chooser.next();
    if (!can_map) {
      way = Way::read;
    }
    int64_t started = thread_cpu_ns();
    if (way == Way::map) {
      WindowEnd end = map_window(fd, offset, window, path, fn);
      if (end == WindowEnd::shrank) {
        return SliceEnd::shrank;
      }
      if (end == WindowEnd::unmappable) {
        can_map = false; // read() this window and the rest
        continue;
      }
    } else if (!read_range(fd, offset, offset + window, read_buffer(), path, fn)) {
      return SliceEnd::shrank;
    }
    if (source == SliceSource::automatic && can_map) {
      g_chooser.record(way, window, thread_cpu_ns() - started);
    }
    offset += window;
  }
  uint64_t now = current_size(fd, path);
  if (now < size) {
    return SliceEnd::shrank;
  }
  return now > size ? SliceEnd::grew : SliceEnd::complete;
}

} // namespace dsm::util
