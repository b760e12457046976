// Remote object stores: where `dsm push` sends payloads and `dsm pull` finds
// them. A store holds content-addressed, write-once objects:
//
//   <root or prefix>/objects/sha256/<first 2 hex>/<remaining 62 hex>
//
// The name is the SHA-256 of the bytes, so the same array added twice (or
// under two names) is stored once, and a push can never overwrite different
// content. Uploads become visible only when complete (a temp file renamed
// into place; an S3 PUT or CompleteMultipartUpload is atomic), and every
// download is re-hashed on arrival before the caller may commit it.
//
// Every method is safe to call from several threads at once: the transfer
// engine (transfer.hpp) runs --jobs workers over one store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace dsm::util {
class AtomicFile;
}

namespace dsm::remote {

namespace fs = std::filesystem;

// "objects/sha256/ab/cdef…": the object's key below the store's root.
std::string object_key(const std::string& sha);

// Called with the number of bytes moved since the last call (may be negative
// when a retry starts an object again). Must be thread-safe.
using ProgressFn = std::function<void(int64_t delta)>;

class ObjectStore {
public:
  virtual ~ObjectStore() = default;

  // Fails early with a clear message (exit 2) when the store cannot be used:
  // directory missing, bucket missing, credentials refused.
  virtual void check_access() = 0;

  // Size of the object, or nullopt when the store does not hold it.
  virtual std::optional<uint64_t> stat(const std::string& sha) = 0;

  // Every object in the store: sha -> size. One listing is much cheaper than
  // thousands of stat() calls on S3 (1,000 keys per request).
  virtual std::unordered_map<std::string, uint64_t> list() = 0;

  // Uploads the open file `fd` (size bytes; `source` names it in messages)
  // as object `sha`. The caller opened it (util/beneath.hpp: never through
  // a symlink) and keeps it open. The bytes are hashed as they are sent and
  // the upload is abandoned before it becomes visible if they do not hash
  // to `sha`: a corrupt payload is never stored. With Replace::yes an
  // existing object is replaced (push --force, after verifying the bytes).
  enum class Replace { no, yes };
  virtual void put(const std::string& sha, int fd, const fs::path& source, uint64_t size,
                   const ProgressFn& progress, Replace replace = Replace::no) = 0;

  // Streams object `sha` into dest (not committed), verifying its SHA-256 on
  // arrival. Throws, naming the remote and the object, when the object is
  // missing, larger than `size` (what the sidecar records, when known) or
  // its bytes do not hash to `sha`; the caller then drops dest.
  virtual void get(const std::string& sha, util::AtomicFile& dest, const ProgressFn& progress,
                   std::optional<uint64_t> size = std::nullopt) = 0;

  // The SHA-256 of the stored bytes, for `dsm verify --remote`: a directory
  // store re-reads the object; S3 cannot tell without a download (its ETag
  // is not a SHA-256), so nullopt there.
  virtual std::optional<std::string> hash_object(const std::string& sha) = 0;

  // When object `sha` was stored (seconds since the epoch; the file's mtime,
  // S3's Last-Modified), for `dsm gc --remote`'s grace period; nullopt when
  // the store does not hold it.
  virtual std::optional<int64_t> modified(const std::string& sha) = 0;

  // Deletes object `sha` (`dsm gc --remote --yes`); one already gone is no
  // error. The only call that removes data from a store.
  virtual void remove(const std::string& sha) = 0;

  // "remote 'origin'": how messages name this store.
  virtual std::string describe() const = 0;
  // True when stat() is cheap (local filesystem): no need to list.
  virtual bool cheap_stat() const = 0;
};

// How a remote is configured (.dsm/config.yaml `remotes:`), without secrets.
struct RemoteSpec {
  std::string name;
  std::string url;      // /abs/dir, file:///abs/dir, or s3://bucket[/prefix]
  std::string endpoint; // S3-compatible server, e.g. http://127.0.0.1:9000
  std::string region;   // S3 region; empty: from the environment or us-east-1
};

enum class StoreKind { directory, s3 };

struct ParsedUrl {
  StoreKind kind = StoreKind::directory;
  fs::path directory;  // for directory stores (absolute)
  std::string bucket;  // for s3
  std::string prefix;  // for s3: "" or "some/prefix/" (always ends with '/')
};

// Parses and validates a remote URL. Throws Error (exit 2) naming the URL.
ParsedUrl parse_remote_url(const std::string& url);

struct StoreOptions {
  // Where an S3 store remembers multipart uploads in flight, so the next push
  // can abort one that a killed process left behind. Local, not committed.
  fs::path state_dir;
};

std::unique_ptr<ObjectStore> open_store(const RemoteSpec& spec, const StoreOptions& options);

// Implementations (dir_store.cpp, s3_store.cpp).
std::unique_ptr<ObjectStore> open_dir_store(const std::string& name, const fs::path& root);
std::unique_ptr<ObjectStore> open_s3_store(const RemoteSpec& spec, const ParsedUrl& url,
                                           const StoreOptions& options);

} // namespace dsm::remote
