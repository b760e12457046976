#include "util/parallel_copy.hpp"

#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace dsm {

namespace {

// Copied, then handed to writeback, in steps of this size: small enough that
// the scan starts soon after the copy does, large enough to keep the system
// calls few (64 per GiB).
constexpr uint64_t k_step = 16u << 20;

} // namespace

ParallelCopy::ParallelCopy(int src, int dst, uint64_t size, std::filesystem::path src_path,
                           std::filesystem::path dst_path)
    : m_src(src), m_dst(dst), m_size(size), m_src_path(std::move(src_path)), m_dst_path(std::move(dst_path)) {
  m_thread = std::thread([this] { run(); });
}

ParallelCopy::~ParallelCopy() {
  m_stop = true;
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void ParallelCopy::publish(uint64_t done) {
  {
    std::lock_guard<std::mutex> g(m_mutex);
    m_done = done;
  }
  m_cv.notify_all();
}

void ParallelCopy::run() {
  try {
    ::posix_fadvise(m_src, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t done = 0;
    while (done < m_size && !m_stop && !interrupted()) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(k_step, m_size - done));
      auto in = static_cast<off64_t>(done);
      auto out = static_cast<off64_t>(done);
      ssize_t n = ::copy_file_range(m_src, &in, m_dst, &out, want, 0);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF ||
            errno == EPERM) {
          // No in-kernel copy between these two files (older kernels across
          // filesystems, some FUSE and network filesystems).
          copy_with_read_write(done);
          break;
        }
        throw Error("cannot copy " + quote(m_src_path.string()) + " to " + quote(m_dst_path.string()) + ": " +
                    util::errno_message(errno));
      }
      if (n == 0) {
        throw Error(quote(m_src_path.string()) + ": file shrank while being read");
      }
      ::sync_file_range(m_dst, static_cast<off64_t>(done), n, SYNC_FILE_RANGE_WRITE);
      done += static_cast<uint64_t>(n);
      publish(done);
    }
  } catch (...) {
    std::lock_guard<std::mutex> g(m_mutex);
    m_error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> g(m_mutex);
    m_ended = true;
  }
  m_cv.notify_all();
}

void ParallelCopy::copy_with_read_write(uint64_t from) {
  std::vector<uint8_t> buf(1u << 20);
  uint64_t done = from;
  if (::lseek(m_dst, static_cast<off_t>(from), SEEK_SET) < 0) {
    throw Error("cannot write " + quote(m_dst_path.string()) + ": " + util::errno_message(errno));
  }
  while (done < m_size && !m_stop && !interrupted()) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), m_size - done));
    ssize_t n = ::pread(m_src, buf.data(), want, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot read " + quote(m_src_path.string()) + ": " + util::errno_message(errno));
    }
    if (n == 0) {
      throw Error(quote(m_src_path.string()) + ": file shrank while being read");
    }
    util::write_all(m_dst, buf.data(), static_cast<size_t>(n), m_dst_path);
    done += static_cast<uint64_t>(n);
    if (done % k_step < static_cast<uint64_t>(n) || done == m_size) {
      publish(done);
    }
  }
  publish(done);
}

void ParallelCopy::wait_for(uint64_t end) {
  end = std::min(end, m_size);
  std::unique_lock<std::mutex> lock(m_mutex);
  while (m_done < end) {
    if (m_error) {
      std::rethrow_exception(m_error);
    }
    if (m_ended) {
      break; // stopped early (Ctrl-C): the caller's check below says so
    }
    lock.unlock();
    check_interrupted();
    lock.lock();
    m_cv.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (m_error) {
    std::rethrow_exception(m_error);
  }
  if (m_done < end) {
    lock.unlock();
    check_interrupted();
    throw Error("cannot copy " + quote(m_src_path.string()) + ": the copy stopped early");
  }
}

void ParallelCopy::finish() {
  wait_for(m_size);
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

} // namespace dsm
