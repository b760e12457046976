// The public C++ API (include/dsm/api.hpp) over the same code `dsm add`,
// `dsm show`, `dsm export`, `dsm push` and `dsm pull` run.
#include "dsm/api.hpp"

#include "format/chunk.hpp"
#include "ops/export.hpp"
#include "ops/add.hpp"
#include "ops/sync.hpp"
#include "repo/datasets.hpp"
#include "format/format.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <limits>

namespace dsm::api {

namespace {

// The data size of an array described by header facts, computed by the
// same parser `dsm show` uses (itemsize of any descr NumPy accepts).
NpyInfo facts_info(const std::string& descr_repr, const std::vector<uint64_t>& shape, bool fortran) {
  NpyInfo info;
  info.descr = descr_repr;
  info.fortran_order = fortran;
  std::string header = npy_header_for(info, shape);
  return parse_npy_header(reinterpret_cast<const uint8_t*>(header.data()), header.size(),
                          std::numeric_limits<uint64_t>::max());
}

// The header's spelling of a sidecar's descr: a simple dtype is kept bare
// there ("<f8", as dtype.str), a structured one as NumPy's repr.
std::string header_descr(const std::string& facts_descr) {
  if (!facts_descr.empty() && (facts_descr.front() == '[' || facts_descr.front() == '(' || facts_descr.front() == '{' ||
                               facts_descr.front() == '\'')) {
    return facts_descr;
  }
  return "'" + facts_descr + "'";
}

std::string program_name() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("a C++ program") : exe.string();
}

// Removes the temporary .npy if save() fails before `dsm add` took it.
struct TempGuard {
  fs::path path;
  ~TempGuard() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

} // namespace

struct Repo::Impl {
  std::unique_ptr<Repository> repo;
  fs::path work_dir;
};

Repo::Repo(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Repo::~Repo() = default;
Repo::Repo(Repo&&) noexcept = default;
Repo& Repo::operator=(Repo&&) noexcept = default;

Repo Repo::open(const fs::path& inside) {
  std::error_code ec;
  fs::path abs = fs::absolute(inside, ec).lexically_normal();
  if (ec) {
    throw Error("cannot resolve " + quote(inside.string()) + ": " + ec.message());
  }
  auto impl = std::make_unique<Impl>();
  impl->work_dir = fs::is_directory(abs, ec) ? abs : abs.parent_path();
  impl->repo = Repository::open(impl->work_dir);
  return Repo(std::move(impl));
}

const fs::path& Repo::root() const { return m_impl->repo->root(); }

Saved Repo::save(const std::string& name, const ArrayRef& array, const SaveOptions& options) {
  const Repository& repo = *m_impl->repo;
  validate_name(name, repo.config());
  if (array.descr.empty() || array.descr.find('\'') != std::string::npos) {
    throw Error("invalid dtype " + quote(array.descr) + ": give NumPy's type string, e.g. <f8");
  }
  NpyInfo info;
  try {
    info = facts_info("'" + array.descr + "'", array.shape, array.order == Order::fortran);
  } catch (const Error& e) {
    throw Error("cannot save " + quote(name) + ": " + e.what());
  }
  if (info.object) {
    throw Error("cannot save " + quote(name) + ": object arrays are not supported by the API");
  }
  if (info.payload_bytes != array.size_bytes) {
    throw Error("cannot save " + quote(name) + ": an array of dtype " + array.descr + " and this shape holds " +
                std::to_string(info.payload_bytes) + " bytes, not " + std::to_string(array.size_bytes));
  }
  if (array.data == nullptr && array.size_bytes != 0) {
    throw Error("cannot save " + quote(name) + ": no data");
  }
  NpyInfo header_info;
  header_info.descr = "'" + array.descr + "'";
  header_info.fortran_order = array.order == Order::fortran;
  std::string header = npy_header_for(header_info, array.shape);

  // The .npy is written under .dsm/local (the data dir's filesystem in a
  // normal work tree) and handed to `dsm add --move`, which links it into
  // place: the one code path that names, describes and lists payloads.
  repo.ensure_local_dir();
  static std::atomic<unsigned> counter{0};
  TempGuard temp{repo.local_dir() / ("api-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                                     last_segment(name) + ".npy")};
  {
    util::AtomicFile f(temp.path, 0600);
    f.write(header);
    f.write(array.data, array.size_bytes);
    f.commit();
  }
  AddRequest req;
  req.files = {temp.path};
  req.name = name;
  std::vector<std::string> pairs;
  for (const auto& [k, v] : options.meta) {
    pairs.push_back(k + "=" + v);
  }
  req.meta_yaml = build_meta(std::nullopt, pairs);
  req.message = options.message;
  req.transfer = Transfer::move;
  req.compress = options.compress;
  req.chunk_bytes = options.chunk_bytes;
  req.source_label = "dsm::api::Repo::save in " + program_name();
  AddResult r = add_files(repo, req);
  const AddedPayload& a = r.added.at(0);
  Saved s;
  s.name = a.sidecar.name;
  s.version = a.sidecar.version;
  s.path = a.path;
  s.sha256 = a.sidecar.original ? a.sidecar.original->sha256 : a.sidecar.sha256;
  return s;
}

namespace {

struct Resolved {
  DatasetVersion version;
  Sidecar sidecar;
};

Resolved resolve(const Repository& repo, const fs::path& work_dir, const std::string& target) {
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  Resolved r;
  r.version = resolve_version(repo, manifest, index, work_dir, target);
  r.sidecar = Sidecar::load(Repository::sidecar_path(r.version.path));
  return r;
}

const ArrayFacts& array_facts(const Sidecar& s, const fs::path& path) {
  if (s.npy) {
    return *s.npy;
  }
  if (s.format == "npz" && s.original && s.members.size() == 1 && s.members[0].facts) {
    return *s.members[0].facts;
  }
  throw Error(quote(path.string()) + " holds several arrays (an .npz added as such); the API reads single arrays");
}

} // namespace

StoredArray Repo::describe(const std::string& target) const {
  Resolved r = resolve(*m_impl->repo, m_impl->work_dir, target);
  const ArrayFacts& f = array_facts(r.sidecar, r.version.path);
  StoredArray a;
  a.name = r.version.name;
  a.version = r.version.seq;
  a.path = r.version.path;
  a.format = r.sidecar.format;
  a.descr = f.descr;
  a.shape = f.shape;
  a.order = f.fortran_order ? Order::fortran : Order::c;
  a.data_bytes = facts_info(header_descr(f.descr), f.shape, f.fortran_order).payload_bytes;
  a.meta_yaml = r.sidecar.meta_yaml;
  a.message = r.sidecar.message;
  a.sidecar_yaml = util::read_file(Repository::sidecar_path(r.version.path));
  return a;
}

void Repo::read(const std::string& target, std::span<std::byte> out) const {
  Resolved r = resolve(*m_impl->repo, m_impl->work_dir, target);
  const ArrayFacts& f = array_facts(r.sidecar, r.version.path);
  uint64_t data_bytes = facts_info(header_descr(f.descr), f.shape, f.fortran_order).payload_bytes;
  if (out.size() != data_bytes) {
    throw Error("cannot read " + quote(target) + " into a buffer of " + std::to_string(out.size()) + " bytes: it holds " +
                std::to_string(data_bytes));
  }
  ExportSource source = export_source_for(r.sidecar, r.version.path);
  util::Sha256 sha;
  uint64_t total = 0;
  std::string head; // the .npy header, until complete
  uint64_t header_len = 0;
  uint64_t copied = 0;
  stream_original(source, [&](const uint8_t* d, size_t n) {
    sha.update(d, n);
    total += n;
    while (n > 0 && (header_len == 0 || head.size() < header_len)) {
      head.push_back(static_cast<char>(*d));
      ++d;
      --n;
      if (header_len == 0 && head.size() >= 12) {
        size_t len_bytes = head[6] == '\x01' ? 2 : 4;
        uint64_t hl = 0;
        for (size_t i = 0; i < len_bytes; ++i) {
          hl |= uint64_t(static_cast<uint8_t>(head[8 + i])) << (8 * i);
        }
        header_len = 8 + len_bytes + hl;
      }
    }
    if (n > 0) {
      if (copied + n > out.size()) {
        throw Error(quote(r.version.path.string()) + ": more data than its header says", k_exit_problems);
      }
      std::memcpy(out.data() + copied, d, n);
      copied += n;
    }
  });
  if (copied != data_bytes || total != source.original_size || sha.hex_digest() != source.original_sha256) {
    throw Error(quote(r.version.path.string()) + " does not match its recorded SHA-256; run 'dsm verify'",
                k_exit_problems);
  }
}

std::vector<std::byte> Repo::read(const std::string& target) const {
  StoredArray a = describe(target);
  std::vector<std::byte> out(a.data_bytes);
  read(target, out);
  return out;
}

namespace {

Transferred transfer(Repository& repo, const fs::path& work_dir, const TransferOptions& options, bool up) {
  SyncOptions so;
  so.targets = options.targets;
  so.remote = options.remote;
  so.jobs = options.jobs == 0 ? 1 : options.jobs;
  so.work_dir = work_dir;
  TransferReport r = up ? dsm::push(repo, so) : dsm::pull(repo, so);
  throw_if_failed(r, up ? "pushing" : "pulling");
  return Transferred{r.store, r.done, r.bytes, r.skipped};
}

} // namespace

Transferred Repo::push(const TransferOptions& options) {
  return transfer(*m_impl->repo, m_impl->work_dir, options, true);
}

Transferred Repo::pull(const TransferOptions& options) {
  return transfer(*m_impl->repo, m_impl->work_dir, options, false);
}

} // namespace dsm::api
