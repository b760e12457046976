// A directory remote: a shared filesystem (NFS, a mounted volume) or any
// local directory. Objects are read-only files, written like every dsm file:
// a hidden temp file beside the target, fsync, then link() into place so an
// object that already exists is never replaced.
#include "dsm/error.hpp"
#include "remote/hashing_io.hpp"
#include "remote/store.hpp"
#include "util/beneath.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dsm::remote {

namespace {

constexpr size_t k_chunk = 1u << 20;

class DirStore final : public ObjectStore {
public:
  DirStore(std::string name, fs::path root) : m_name(std::move(name)), m_root(std::move(root)) {}

  std::string describe() const override { return "remote " + quote(m_name); }
  bool cheap_stat() const override { return true; }

  void check_access() override {
    struct stat st {};
    if (::stat(m_root.c_str(), &st) != 0) {
      throw Error(describe() + ": cannot use directory " + quote(m_root.string()) + ": " +
                  util::errno_message(errno) + " (create it first, e.g. mkdir -p)");
    }
    if (!S_ISDIR(st.st_mode)) {
      throw Error(describe() + ": " + quote(m_root.string()) + " is not a directory");
    }
  }

  // Below the root nothing is followed (util/beneath.hpp): an object or a
  // fan-out directory replaced by a symlink is refused, never read or
  // written through; a FIFO is refused without blocking.
  std::optional<uint64_t> stat(const std::string& sha) override {
    std::optional<struct stat> st = util::lstat_beneath(m_root, object_key(sha));
    if (!st || !S_ISREG(st->st_mode)) {
      return std::nullopt;
    }
    return static_cast<uint64_t>(st->st_size);
  }

  std::unordered_map<std::string, uint64_t> list() override {
    std::unordered_map<std::string, uint64_t> out;
    fs::path base = m_root / "objects" / "sha256";
    std::error_code ec;
    if (!util::lstat_beneath(m_root, "objects/sha256") || !fs::is_directory(fs::symlink_status(base, ec))) {
      return out;
    }
    for (const auto& fan : fs::directory_iterator(base)) {
      std::string two = fan.path().filename().string();
      if (!util::is_lower_hex(two, 2) || !fan.is_directory() || fan.is_symlink()) {
        continue;
      }
      for (const auto& obj : fs::directory_iterator(fan.path())) {
        std::string rest = obj.path().filename().string();
        // Hidden temp files of uploads in flight are not objects yet.
        if (!util::is_lower_hex(rest, 62) || obj.is_symlink() || !obj.is_regular_file()) {
          continue;
        }
        out.emplace(two + rest, obj.file_size());
      }
    }
    return out;
  }

  void put(const std::string& sha, int fd, const fs::path& source, uint64_t size, const ProgressFn& progress,
           Replace replace) override {
    std::string key = object_key(sha);
    fs::path target = m_root / key;
    make_fanout(key.substr(0, key.rfind('/')));
    HashingSource src(fd, source, size, sha);
    util::AtomicFile out(target, 0444);
    std::vector<char> buf(k_chunk);
    uint64_t off = 0;
    while (off < size) {
      size_t n = src.read_at(off, buf.data(), static_cast<size_t>(std::min<uint64_t>(k_chunk, size - off)));
      out.write(buf.data(), n);
      off += n;
      if (progress) {
        progress(static_cast<int64_t>(n));
      }
    }
    // Never replace an object, except one whose size shows it is damaged,
    // or when asked to (push --force: its content failed verification):
    // its name fixes its content, and these bytes were just verified.
    std::optional<struct stat> existing = util::lstat_beneath(m_root, key);
    bool damaged =
        existing && (!S_ISREG(existing->st_mode) || static_cast<uint64_t>(existing->st_size) != size);
    try {
      out.commit(replace == Replace::yes || damaged ? util::AtomicFile::Replace::yes
                                                    : util::AtomicFile::Replace::no);
    } catch (const Error&) {
      // Another push stored the same content first: same name, same bytes.
      if (stat(sha) == size) {
        return;
      }
      throw;
    }
  }

  void get(const std::string& sha, util::AtomicFile& dest, const ProgressFn& progress,
           std::optional<uint64_t> size) override {
    fs::path p = m_root / object_key(sha);
    std::optional<util::RegularFile> f = open_object(sha);
    if (!f) {
      throw Error("object " + quote(object_key(sha)) + " is missing on " + describe() + " (" +
                  quote(m_root.string()) + "); push it from a clone that has the payload");
    }
    uint64_t have = static_cast<uint64_t>(f->st.st_size);
    if (size && have != *size) {
      throw Error("object " + quote(object_key(sha)) + " on " + describe() + " has " + std::to_string(have) +
                      " bytes, expected " + std::to_string(*size) + "; nothing was written",
                  k_exit_problems);
    }
    // Bounded by the size it had when opened: a file that grows while read
    // (or anything else posing as one) is refused, never copied on and on.
    HashingSink sink(dest, have);
    std::vector<char> buf(k_chunk);
    while (true) {
      size_t n = util::read_some(f->fd.get(), buf.data(), buf.size(), p);
      if (n == 0) {
        break;
      }
      sink.write(buf.data(), n);
      if (progress) {
        progress(static_cast<int64_t>(n));
      }
    }
    std::string actual = sink.hex_digest();
    if (actual != sha) {
      throw Error(remote_corrupt_message(describe(), sha, actual), k_exit_problems);
    }
  }

  std::optional<std::string> hash_object(const std::string& sha) override {
    fs::path p = m_root / object_key(sha);
    std::optional<util::RegularFile> f = open_object(sha);
    if (!f) {
      throw Error("cannot open " + quote(p.string()) + ": " + util::errno_message(ENOENT));
    }
    util::Sha256 h;
    std::vector<char> buf(k_chunk);
    while (size_t n = util::read_some(f->fd.get(), buf.data(), buf.size(), p)) {
      h.update(buf.data(), n);
    }
    return h.hex_digest();
  }

  std::optional<int64_t> modified(const std::string& sha) override {
    std::optional<struct stat> st = util::lstat_beneath(m_root, object_key(sha));
    if (!st || !S_ISREG(st->st_mode)) {
      return std::nullopt;
    }
    return static_cast<int64_t>(st->st_mtim.tv_sec);
  }

  // Unlinked through the fan-out directory opened below the root without
  // following a symlink: never a file outside the remote.
  void remove(const std::string& sha) override {
    std::string key = object_key(sha);
    std::string dir = key.substr(0, key.rfind('/'));
    util::Fd root = util::open_directory(m_root);
    int fd = util::openat_beneath(root.get(), dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      if (errno == ENOENT) {
        return;
      }
      throw Error(describe() + ": cannot open " + quote((m_root / dir).string()) + ": " +
                  util::errno_message(errno));
    }
    util::Fd d(fd);
    if (::unlinkat(d.get(), key.substr(dir.size() + 1).c_str(), 0) != 0 && errno != ENOENT) {
      throw Error(describe() + ": cannot delete " + quote((m_root / key).string()) + ": " +
                  util::errno_message(errno));
    }
    ::fsync(d.get());
  }

private:
  // An object opened for reading (util/beneath.hpp). A symlink, a FIFO or
  // a device in its place is a damaged object (exit 1, like a corrupt
  // one), reported for that object alone.
  std::optional<util::RegularFile> open_object(const std::string& sha) {
    try {
      return util::open_regular_beneath(m_root, object_key(sha));
    } catch (const Error& e) {
      throw Error(describe() + ": " + e.what(), k_exit_problems);
    }
  }

  // Creates `dir` ("objects/sha256/ab") and its parents below the root, one
  // component at a time, each checked to be a real directory before the
  // next is made inside it: a fan-out directory symlinked elsewhere is
  // refused, so a push never writes outside the remote.
  void make_fanout(const std::string& dir) {
    util::Fd root = util::open_directory(m_root);
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir.find('/', pos + 1);
      std::string part = dir.substr(0, pos);
      if (::mkdirat(root.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        throw Error(describe() + ": cannot create " + quote((m_root / part).string()) + ": " +
                    util::errno_message(errno));
      }
      int fd = util::openat_beneath(root.get(), part, O_PATH | O_DIRECTORY);
      if (fd < 0) {
        if (errno == ELOOP || errno == EXDEV) {
          throw Error(describe() + ": " + util::symlink_refusal(m_root / part));
        }
        throw Error(describe() + ": cannot open " + quote((m_root / part).string()) + ": " +
                    util::errno_message(errno));
      }
      ::close(fd);
    }
  }

  std::string m_name;
  fs::path m_root;
};

} // namespace

std::unique_ptr<ObjectStore> open_dir_store(const std::string& name, const fs::path& root) {
  return std::make_unique<DirStore>(name, root);
}

} // namespace dsm::remote
