// for_each_slice: mmap windows for large regular files, 64 KiB read()s for
// small ones (docs/benchmarks.md, "What will decide the hashing floors":
// read() into 4 MiB buffers reached 53-58% of `openssl speed`, 64 KiB reads
// 77-85%, 8 MiB mmap windows 91-98%, because the kernel's copy out of the page
// cache costs almost as much as SHA-256 itself).
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
#include <cerrno>
#include <csignal>
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

// 64 KiB: the read() size that measured fastest (the copy's destination stays
// in L1/L2); larger buffers were 30% slower per CPU second.
constexpr size_t k_read_buffer = 64u << 10;

SliceEnd read_slices(int fd, uint64_t size, uint64_t offset, const std::filesystem::path& path,
                     const std::function<void(const uint8_t*, size_t)>& fn,
                     const std::function<void(uint64_t)>& ready) {
  std::vector<uint8_t> buffer(static_cast<size_t>(std::clamp<uint64_t>(size - offset, 1, k_read_buffer)));
  while (offset < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - offset));
    if (ready) {
      ready(offset + want);
    }
    size_t n = pread_some(fd, buffer.data(), want, offset, path);
    if (n == 0) {
      return SliceEnd::shrank;
    }
    fn(buffer.data(), n);
    offset += n;
    if (n < want) {
      return SliceEnd::shrank;
    }
  }
  uint8_t extra = 0;
  return pread_some(fd, &extra, 1, size, path) != 0 ? SliceEnd::grew : SliceEnd::complete;
}

} // namespace

SliceEnd for_each_slice(int fd, uint64_t size, const std::filesystem::path& path,
                        const std::function<void(const uint8_t*, size_t)>& fn, SliceSource source,
                        const std::function<void(uint64_t end)>& ready) {
  if (source == SliceSource::read || (source == SliceSource::automatic && size < k_map_min_size)) {
    return read_slices(fd, size, 0, path, fn, ready);
  }
  install_handler();
  uint64_t offset = 0;
  while (offset < size) {
    size_t window = static_cast<size_t>(std::min<uint64_t>(k_map_window, size - offset));
    if (ready) {
      ready(offset + window);
    }
    if (current_size(fd, path) < offset + window) {
      return SliceEnd::shrank;
    }
    void* base = ::mmap(nullptr, window, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, static_cast<off_t>(offset));
    if (base == MAP_FAILED) {
      // Filesystems without mmap support (some FUSE mounts): read() the rest.
      return read_slices(fd, size, offset, path, fn, ready);
    }
    MappedWindow mapped(base, window);
    ::madvise(base, window, MADV_SEQUENTIAL);
    try {
      for (size_t at = 0; at < window; at += k_slice) {
        fn(mapped.data() + at, std::min(k_slice, window - at));
        if (MappedWindow::faulted()) {
          return SliceEnd::shrank;
        }
      }
    } catch (...) {
      if (MappedWindow::faulted() || current_size(fd, path) < offset + window) {
        return SliceEnd::shrank;
      }
      throw;
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
