// The copy half of `dsm add` for large files: a second thread copies the
// source into the staged file in the kernel (copy_file_range: no trip
// through user space, and a reflink where the filesystem shares extents)
// and starts writeback of each copied range at once (sync_file_range), so
// the fsync before publishing has little left to wait for. Meanwhile the
// calling thread hashes, parses and summarises the copy itself, a window
// behind (ScanOptions::ready = wait_for): what the sidecar and the manifest
// record is exactly what was stored. The source is checked unchanged
// (size, mtime, ctime) across the copy by the caller.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

namespace dsm {

class ParallelCopy {
public:
  // Starts copying `size` bytes of src (from offset 0) to dst (at 0).
  // The paths are for messages.
  ParallelCopy(int src, int dst, uint64_t size, std::filesystem::path src_path, std::filesystem::path dst_path);
  // Stops the copy (if still running) and waits for the thread.
  ~ParallelCopy();
  ParallelCopy(const ParallelCopy&) = delete;
  ParallelCopy& operator=(const ParallelCopy&) = delete;

  // Blocks until bytes below `end` are in dst; rethrows the copy's error;
  // throws dsm::Error on Ctrl-C (check_interrupted).
  void wait_for(uint64_t end);
  // Waits for the whole copy; rethrows its error.
  void finish();

private:
  void run();
  void publish(uint64_t done);
  void copy_with_read_write(uint64_t from);

  int m_src;
  int m_dst;
  uint64_t m_size;
  std::filesystem::path m_src_path;
  std::filesystem::path m_dst_path;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  uint64_t m_done = 0;  // guarded by m_mutex
  bool m_ended = false; // guarded by m_mutex
  std::exception_ptr m_error;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

} // namespace dsm
