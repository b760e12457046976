#include "util/walk.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace dsm::util {

namespace {

[[noreturn]] void fail(const std::filesystem::path& root, const std::string& rel, int err) {
  std::filesystem::path where = rel.empty() ? root : root / rel;
  throw Error("cannot scan " + quote(where.string()) + ": " + errno_message(err));
}

EntryType type_of(int dir_fd, const char* name, unsigned char d_type) {
  switch (d_type) {
  case DT_DIR:
    return EntryType::directory;
  case DT_REG:
    return EntryType::regular;
  case DT_LNK:
    return EntryType::symlink;
  case DT_UNKNOWN:
    break;
  default:
    return EntryType::other;
  }
  // Filesystems that do not fill d_type.
  struct stat st {};
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return EntryType::other;
  }
  if (S_ISDIR(st.st_mode)) {
    return EntryType::directory;
  }
  if (S_ISREG(st.st_mode)) {
    return EntryType::regular;
  }
  return S_ISLNK(st.st_mode) ? EntryType::symlink : EntryType::other;
}

int64_t ns(const struct timespec& ts) { return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec; }

} // namespace

FileStat file_stat_of(const struct ::stat& st) {
  FileStat f;
  f.mode = st.st_mode;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = ns(st.st_mtim);
  f.ctime_ns = ns(st.st_ctim);
  f.inode = static_cast<uint64_t>(st.st_ino);
  return f;
}

namespace {

// One directory's entries into out; subdirectories are descended at once
// (depth first) unless `subdirs` is given, which then receives them instead.
void list_dir(int dir_fd, const std::filesystem::path& root, const std::string& prefix,
              const std::function<bool(std::string_view)>& want_stat, std::vector<ListedEntry>& out,
              std::vector<std::string>* subdirs) {
  // Not a std::vector: zero-filling 32 KiB per directory was measurable
  // over 10,000 directories, and getdents64 writes what is read.
  constexpr size_t k_buf = 32u << 10;
  std::unique_ptr<char[]> buf(new char[k_buf]);
  while (true) {
    long n = ::syscall(SYS_getdents64, dir_fd, buf.get(), k_buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(root, prefix, errno);
    }
    if (n == 0) {
      return;
    }
    for (long at = 0; at < n;) {
      const auto* d = reinterpret_cast<const struct dirent64*>(buf.get() + at);
      at += d->d_reclen;
      const char* name = d->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) {
        continue;
      }
      ListedEntry& e = out.emplace_back();
      e.rel = prefix.empty() ? std::string(name) : prefix + "/" + name;
      e.type = type_of(dir_fd, name, d->d_type);
      if (e.type == EntryType::regular && want_stat(name)) {
        struct stat st {};
        if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
          e.has_stat = true;
          e.stat = file_stat_of(st);
        } else if (errno != ENOENT) {
          fail(root, e.rel, errno);
        } else {
          out.pop_back(); // removed since getdents: it is not there
          continue;
        }
      }
      if (e.type == EntryType::directory) {
        if (subdirs != nullptr) {
          subdirs->push_back(e.rel);
          continue;
        }
        std::string rel = e.rel; // `e` moves when out grows
        int sub = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          fail(root, rel, errno);
        }
        Fd guard(sub);
        list_dir(sub, root, rel, want_stat, out, nullptr);
      }
    }
  }
}

} // namespace

std::vector<ListedEntry> list_tree(const std::filesystem::path& root, unsigned threads,
                                   const std::function<bool(std::string_view name)>& want_stat) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail(root, "", errno);
  }
  Fd root_fd(fd);
  std::vector<ListedEntry> out;
  std::vector<std::string> subdirs;
  list_dir(root_fd.get(), root, "", want_stat, out, &subdirs);
  threads = static_cast<unsigned>(std::clamp<size_t>(threads, 1, std::max<size_t>(subdirs.size(), 1)));
  std::vector<std::vector<ListedEntry>> parts(threads);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto worker = [&](std::vector<ListedEntry>& part) {
    try {
      while (!stop) {
        size_t i = next++;
        if (i >= subdirs.size()) {
          return;
        }
        const std::string& rel = subdirs[i];
        int sub = ::openat(root_fd.get(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          fail(root, rel, errno);
        }
        Fd guard(sub);
        list_dir(sub, root, rel, want_stat, part, nullptr);
      }
    } catch (...) {
      std::lock_guard<std::mutex> g(error_mutex);
      if (!error) {
        error = std::current_exception();
      }
      stop = true;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    pool.emplace_back(worker, std::ref(parts[t]));
  }
  worker(parts[0]);
  for (auto& t : pool) {
    t.join();
  }
  if (error) {
    std::rethrow_exception(error);
  }
  for (auto& part : parts) {
    out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  std::sort(out.begin(), out.end(), [](const ListedEntry& a, const ListedEntry& b) { return a.rel < b.rel; });
  return out;
}

const ListedEntry* find_listed(const std::vector<ListedEntry>& listing, std::string_view rel) {
  auto it = std::lower_bound(listing.begin(), listing.end(), rel,
                             [](const ListedEntry& e, std::string_view r) { return e.rel < r; });
  return it != listing.end() && it->rel == rel ? &*it : nullptr;
}

} // namespace dsm::util
