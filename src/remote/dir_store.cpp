// A directory remote: a shared filesystem (NFS, a mounted volume) or any
// local directory. Objects are read-only files, written like every dsm file:
// a hidden temp file beside the target, fsync, then link() into place so an
// object that already exists is never replaced.
#include "dsm/error.hpp"
#include "remote/hashing_io.hpp"
#include "remote/store.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

namespace dsm::remote {

namespace {

constexpr size_t k_chunk = 1u << 20;

bool is_hex(const std::string& s, size_t n) {
  if (s.size() != n) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

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

  std::optional<uint64_t> stat(const std::string& sha) override {
    struct stat st {};
    fs::path p = m_root / object_key(sha);
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return std::nullopt;
      }
      throw Error(describe() + ": cannot stat " + quote(p.string()) + ": " + util::errno_message(errno));
    }
    if (!S_ISREG(st.st_mode)) {
      return std::nullopt;
    }
    return static_cast<uint64_t>(st.st_size);
  }

  std::unordered_map<std::string, uint64_t> list() override {
    std::unordered_map<std::string, uint64_t> out;
    fs::path base = m_root / "objects" / "sha256";
    std::error_code ec;
    if (!fs::is_directory(base, ec)) {
      return out;
    }
    for (const auto& fan : fs::directory_iterator(base)) {
      std::string two = fan.path().filename().string();
      if (!is_hex(two, 2) || !fan.is_directory()) {
        continue;
      }
      for (const auto& obj : fs::directory_iterator(fan.path())) {
        std::string rest = obj.path().filename().string();
        // Hidden temp files of uploads in flight are not objects yet.
        if (!is_hex(rest, 62) || !obj.is_regular_file()) {
          continue;
        }
        out.emplace(two + rest, obj.file_size());
      }
    }
    return out;
  }

  void put(const std::string& sha, const fs::path& source, uint64_t size, const ProgressFn& progress) override {
    fs::path target = m_root / object_key(sha);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      throw Error(describe() + ": cannot create " + quote(target.parent_path().string()) + ": " + ec.message());
    }
    HashingSource src(source, size, sha);
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
    // Never replace an object, except one whose size shows it is damaged:
    // its name fixes its content, and these bytes were just verified.
    std::optional<uint64_t> existing = stat(sha);
    auto replace = existing && *existing != size ? util::AtomicFile::Replace::yes : util::AtomicFile::Replace::no;
    try {
      out.commit(replace);
    } catch (const Error&) {
      // Another push stored the same content first: same name, same bytes.
      if (stat(sha) == size) {
        return;
      }
      throw;
    }
  }

  void get(const std::string& sha, util::AtomicFile& dest, const ProgressFn& progress) override {
    fs::path p = m_root / object_key(sha);
    util::Fd fd;
    {
      int raw = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (raw < 0) {
        if (errno == ENOENT) {
          throw Error("object " + quote(object_key(sha)) + " is missing on " + describe() + " (" +
                      quote(m_root.string()) + "); push it from a clone that has the payload");
        }
        throw Error(describe() + ": cannot open " + quote(p.string()) + ": " + util::errno_message(errno));
      }
      fd = util::Fd(raw);
    }
    HashingSink sink(dest);
    std::vector<char> buf(k_chunk);
    while (true) {
      size_t n = util::read_some(fd.get(), buf.data(), buf.size(), p);
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
    util::Fd fd = util::open_read(p);
    util::Sha256 h;
    std::vector<char> buf(k_chunk);
    while (size_t n = util::read_some(fd.get(), buf.data(), buf.size(), p)) {
      h.update(buf.data(), n);
    }
    return h.hex_digest();
  }

private:
  std::string m_name;
  fs::path m_root;
};

} // namespace

std::unique_ptr<ObjectStore> open_dir_store(const std::string& name, const fs::path& root) {
  return std::make_unique<DirStore>(name, root);
}

} // namespace dsm::remote
