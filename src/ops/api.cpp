// The public C++ API (include/dsm/api.hpp) over the same code `dsm add`,
// `dsm show`, `dsm export`, `dsm push` and `dsm pull` run.
#include "dsm/api.hpp"

#include "format/chunk.hpp"
#include "ops/export.hpp"
#include "ops/add.hpp"
#include "ops/verify.hpp"
#include "ops/diff.hpp"
#include "ops/sync.hpp"
#include "repo/datasets.hpp"
#include "format/format.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>

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

uint64_t parse_size(const std::string& text) { return dsm::parse_size(text); }

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

namespace {

bool is_structured(const std::string& descr) {
  return !descr.empty() && (descr.front() == '[' || descr.front() == '{');
}

// The temporary file a save hands to `dsm add --move`: created exclusively
// under .dsm/local (the data dir's filesystem in a normal work tree, so add
// links it into place: its bytes are written once), written in slices with
// a check for Ctrl-C between them. No fsync here: add syncs what it links.
void write_temp(const fs::path& path, std::initializer_list<std::span<const std::byte>> pieces) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error("cannot create " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  util::Fd owner(fd);
  constexpr size_t k_slice = 8u << 20;
  for (std::span<const std::byte> piece : pieces) {
    for (size_t off = 0; off < piece.size(); off += k_slice) {
      check_interrupted();
      util::write_all(fd, piece.data() + off, std::min(k_slice, piece.size() - off), path);
    }
  }
}

Saved saved_from(const AddedPayload& a) {
  Saved s;
  s.name = a.name;
  s.version = a.version;
  s.path = a.path;
  s.sha256 = a.original_sha256.value_or(a.sha256);
  return s;
}

} // namespace

// A batch's saves are written as files under .dsm/local and handed to one
// `dsm add --move` of them all, which links each into place (its bytes are
// written once): the one code path that names, describes and lists
// payloads. save() is a batch of one.
struct Batch::Impl {
  const Repository* repo = nullptr;
  struct Item {
    TempGuard temp;
    AddRequest::Item add;
  };
  std::vector<std::unique_ptr<Item>> items; // stable: TempGuard removes its file when destroyed
  std::optional<SaveOptions> first;         // compress, chunk_bytes, allow_pickle of the batch

  void add(const std::string& name, const std::string& ext,
           std::initializer_list<std::span<const std::byte>> pieces, const SaveOptions& options) {
    if (!first) {
      first = options;
    } else if (first->compress != options.compress || first->chunk_bytes != options.chunk_bytes ||
               first->allow_pickle != options.allow_pickle) {
      throw Error("cannot save " + quote(name) +
                  " in this batch: every save of a batch takes the compress, chunk_bytes and allow_pickle of "
                  "its first save (commit this batch, then start another)");
    }
    repo->ensure_local_dir();
    static std::atomic<unsigned> counter{0};
    auto item = std::make_unique<Item>();
    item->temp.path = repo->local_dir() / ("api-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(counter++) + "-" + last_segment(name) + ext);
    write_temp(item->temp.path, pieces);
    item->add.name = name;
    std::vector<std::string> pairs;
    for (const auto& [k, v] : options.meta) {
      pairs.push_back(k + "=" + v);
    }
    item->add.meta_yaml = build_meta(std::nullopt, pairs);
    item->add.message = options.message;
    items.push_back(std::move(item));
  }
};

Batch::Batch(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

size_t Batch::size() const { return m_impl->items.size(); }

std::vector<Saved> Batch::commit() {
  if (m_impl->items.empty()) {
    return {};
  }
  const SaveOptions& o = *m_impl->first;
  AddRequest req;
  for (const auto& item : m_impl->items) {
    req.files.push_back(item->temp.path.string());
    req.items.push_back(item->add);
  }
  req.transfer = Transfer::move;
  req.compress = o.compress;
  req.chunk_bytes = o.chunk_bytes;
  req.allow_pickle = o.allow_pickle ? AllowPickle::yes : AllowPickle::no;
  req.source_label = "dsm::api::Repo::save in " + program_name();
  AddResult r = add_files(*m_impl->repo, req);
  m_impl->items.clear(); // moved into place; nothing left to remove
  m_impl->first.reset();
  std::vector<Saved> out;
  out.reserve(r.added.size());
  for (const AddedPayload& a : r.added) {
    out.push_back(saved_from(a));
  }
  return out;
}

Batch Repo::batch() {
  auto impl = std::make_unique<Batch::Impl>();
  impl->repo = m_impl->repo.get();
  return Batch(std::move(impl));
}

namespace {

// The .npy header of `array` saved as `name`, after checking that its
// dtype, shape and size agree.
std::string array_header(const Repository& repo, const std::string& name, const ArrayRef& array) {
  validate_name(name, repo.config());
  bool structured = is_structured(array.descr);
  if (array.descr.empty() || (!structured && array.descr.find('\'') != std::string::npos)) {
    throw Error("invalid dtype " + quote(array.descr) + ": give NumPy's type string, e.g. <f8");
  }
  std::string descr_literal = structured ? array.descr : "'" + array.descr + "'";
  NpyInfo info;
  try {
    info = facts_info(descr_literal, array.shape, array.order == Order::fortran);
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
  header_info.descr = descr_literal;
  header_info.fortran_order = array.order == Order::fortran;
  return npy_header_for(header_info, array.shape);
}

// ".npy" or ".npz" for a whole file's bytes.
std::string file_ext(const std::string& name, std::span<const std::byte> file) {
  bool npy = file.size() >= 6 && std::memcmp(file.data(), "\x93NUMPY", 6) == 0;
  bool zip = file.size() >= 4 && std::memcmp(file.data(), "PK", 2) == 0;
  if (!npy && !zip) {
    throw Error("cannot save " + quote(name) + ": the bytes are neither a .npy nor an .npz");
  }
  return npy ? ".npy" : ".npz";
}

} // namespace

void Batch::save(const std::string& name, const ArrayRef& array, const SaveOptions& options) {
  std::string header = array_header(*m_impl->repo, name, array);
  m_impl->add(name, ".npy",
              {std::as_bytes(std::span(header)),
               std::span(static_cast<const std::byte*>(array.data), array.size_bytes)},
              options);
}

void Batch::save_file(const std::string& name, std::span<const std::byte> file, const SaveOptions& options) {
  validate_name(name, m_impl->repo->config());
  m_impl->add(name, file_ext(name, file), {file}, options);
}

Saved Repo::save(const std::string& name, const ArrayRef& array, const SaveOptions& options) {
  Batch b = batch();
  b.save(name, array, options);
  return b.commit().at(0);
}

Saved Repo::save_file(const std::string& name, std::span<const std::byte> file, const SaveOptions& options) {
  Batch b = batch();
  b.save_file(name, file, options);
  return b.commit().at(0);
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

// The facts of the one array a version holds; nullptr for an .npz of
// several arrays.
const ArrayFacts* array_facts(const Sidecar& s) {
  if (s.npy) {
    return &*s.npy;
  }
  if (s.format == "npz" && s.original && s.members.size() == 1 && s.members[0].facts) {
    return &*s.members[0].facts;
  }
  return nullptr;
}

const ArrayFacts& single_array(const Sidecar& s, const fs::path& path) {
  const ArrayFacts* f = array_facts(s);
  if (f == nullptr) {
    throw Error(quote(path.string()) + " holds several arrays (an .npz added as such); read it with read_stored");
  }
  return *f;
}

StoredArray stored_array(const DatasetVersion& version, const Sidecar& sidecar) {
  StoredArray a;
  a.name = version.name;
  a.version = version.seq;
  a.path = version.path;
  a.format = sidecar.format;
  if (const ArrayFacts* f = array_facts(sidecar)) {
    a.descr = f->descr;
    a.shape = f->shape;
    a.order = f->fortran_order ? Order::fortran : Order::c;
    a.data_bytes = facts_info(header_descr(f->descr), f->shape, f->fortran_order).payload_bytes;
  } else {
    a.single_array = false;
  }
  a.meta_yaml = sidecar.meta_yaml;
  a.message = sidecar.message;
  a.sidecar_yaml = util::read_file(Repository::sidecar_path(version.path));
  try {
    a.sidecar_json = yaml_to_json(YAML::Load(a.sidecar_yaml)).dump();
  } catch (const YAML::Exception& e) {
    throw Error(quote(Repository::sidecar_path(version.path).string()) + ": invalid YAML: " + e.msg);
  }
  return a;
}

[[noreturn]] void hash_mismatch(const fs::path& path, const std::string& expected, const std::string& actual) {
  throw IntegrityError(quote(path.string()) + " does not match its recorded SHA-256 (recorded " + expected +
                         ", read " + actual + "); run 'dsm verify'",
                       path, expected, actual);
}

// Streams what is stored for `r` (the payload file; for a chunked version,
// its original .npy rebuilt from the chunks), hashing it on the way, and
// throws IntegrityError unless it matches what the manifest records.
void stream_checked(const Resolved& r, const std::function<void(const uint8_t*, size_t)>& sink) {
  util::Sha256 sha;
  if (r.sidecar.format == "chunks") {
    ExportSource source = export_source_for(r.sidecar, r.version.path);
    stream_original(source, [&](const uint8_t* d, size_t n) {
      check_interrupted();
      sha.update(d, n);
      sink(d, n);
    });
    if (sha.hex_digest() != source.original_sha256) {
      hash_mismatch(r.version.path, source.original_sha256, sha.hex_digest());
    }
    return;
  }
  util::Fd fd = util::open_read(r.version.path);
  std::vector<uint8_t> buf(4u << 20);
  while (true) {
    check_interrupted();
    size_t n = util::read_some(fd.get(), buf.data(), buf.size(), r.version.path);
    if (n == 0) {
      break;
    }
    sha.update(buf.data(), n);
    sink(buf.data(), n);
  }
  if (sha.hex_digest() != r.version.sha256) {
    hash_mismatch(r.version.path, r.version.sha256, sha.hex_digest());
  }
}

} // namespace

namespace {
void read_checked(const Resolved& r, const ArrayFacts& f, const ExportSource& source, std::span<std::byte> out);

std::string sha256_of_file(const fs::path& path) {
  util::Fd fd = util::open_read(path);
  util::Sha256 sha;
  std::vector<uint8_t> buf(4u << 20);
  while (size_t n = util::read_some(fd.get(), buf.data(), buf.size(), path)) {
    sha.update(buf.data(), n);
  }
  return sha.hex_digest();
}
} // namespace

StoredArray Repo::describe(const std::string& target) const {
  Resolved r = resolve(*m_impl->repo, m_impl->work_dir, target);
  return stored_array(r.version, r.sidecar);
}

void Repo::read(const std::string& target, std::span<std::byte> out) const {
  Resolved r = resolve(*m_impl->repo, m_impl->work_dir, target);
  const ArrayFacts& f = single_array(r.sidecar, r.version.path);
  uint64_t data_bytes = facts_info(header_descr(f.descr), f.shape, f.fortran_order).payload_bytes;
  if (out.size() != data_bytes) {
    throw Error("cannot read " + quote(target) + " into a buffer of " + std::to_string(out.size()) + " bytes: it holds " +
                std::to_string(data_bytes));
  }
  ExportSource source = export_source_for(r.sidecar, r.version.path);
  try {
    read_checked(r, f, source, out);
  } catch (const IntegrityError&) {
    throw;
  } catch (const Error& e) {
    // A compressed payload damaged so that it no longer parses as a zip:
    // say so as a hash mismatch when it is one (the failure path only).
    if (e.exit_code() != k_exit_interrupted && r.sidecar.format == "npz" && !r.version.sha256.empty()) {
      std::string actual = sha256_of_file(r.version.path);
      if (actual != r.version.sha256) {
        hash_mismatch(r.version.path, r.version.sha256, actual);
      }
    }
    throw;
  }
}

namespace {

void read_checked(const Resolved& r, const ArrayFacts& f, const ExportSource& source, std::span<std::byte> out) {
  uint64_t data_bytes = out.size();
  util::Sha256 sha;
  uint64_t total = 0;
  std::string head; // the .npy header, until complete
  uint64_t header_len = 0;
  uint64_t copied = 0;
  auto consume = [&](const uint8_t* d, size_t n) {
    check_interrupted();
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
      if (header_len != 0 && head.size() == header_len) {
        // The header must say what the sidecar says (dtype, shape, order),
        // or the bytes would be read as another array.
        ArrayFacts got = ArrayFacts::from(
          parse_npy_header(reinterpret_cast<const uint8_t*>(head.data()), head.size(), source.original_size));
        if (got.descr != f.descr || got.shape != f.shape || got.fortran_order != f.fortran_order) {
          throw IntegrityError(quote(r.version.path.string()) + ": its header (dtype " + got.descr + ") disagrees with its sidecar (dtype " +
                                 f.descr + "); run 'dsm verify'",
                               r.version.path, source.original_sha256, "");
        }
      }
    }
    if (n > 0) {
      if (copied + n > out.size()) {
        throw IntegrityError(quote(r.version.path.string()) + ": more data than its header says", r.version.path,
                             source.original_sha256, "");
      }
      std::memcpy(out.data() + copied, d, n);
      copied += n;
    }
  };
  if (source.kind != ExportSource::Kind::npy) {
    stream_original(source, consume);
  } else {
    // A plain .npy: the header through `consume`, then the data read
    // straight into `out` and hashed there while it is hot. (Copying from a
    // staging buffer into fresh pages cost 3-5x more on a 1 GiB load: the
    // kernel zeroed each huge page on the user-space fault.)
    util::Fd fd = util::open_read(source.payload);
    std::vector<uint8_t> small(64u << 10);
    while (header_len == 0 || head.size() < header_len) {
      size_t want = header_len == 0 ? 12 : std::min<uint64_t>(small.size(), header_len - head.size());
      size_t n = util::read_some(fd.get(), small.data(), want, source.payload);
      if (n == 0) {
        break;
      }
      consume(small.data(), n);
    }
    constexpr size_t k_slice = 4u << 20;
    while (copied < out.size()) {
      check_interrupted();
      uint8_t* at = reinterpret_cast<uint8_t*>(out.data()) + copied;
      size_t n = util::read_some(fd.get(), at, std::min<uint64_t>(k_slice, out.size() - copied), source.payload);
      if (n == 0) {
        break;
      }
      sha.update(at, n);
      total += n;
      copied += n;
    }
    while (size_t n = util::read_some(fd.get(), small.data(), small.size(), source.payload)) {
      consume(small.data(), n); // bytes past the data: a mismatch
    }
  }
  if (copied != data_bytes || total != source.original_size || sha.hex_digest() != source.original_sha256) {
    hash_mismatch(r.version.path, source.original_sha256, sha.hex_digest());
  }
}

} // namespace

std::vector<std::byte> Repo::read(const std::string& target) const {
  StoredArray a = describe(target);
  std::vector<std::byte> out(a.data_bytes);
  read(target, out);
  return out;
}

std::vector<std::byte> Repo::read_stored(const std::string& target) const {
  Resolved r = resolve(*m_impl->repo, m_impl->work_dir, target);
  std::vector<std::byte> out;
  stream_checked(r, [&out](const uint8_t* d, size_t n) {
    const auto* b = reinterpret_cast<const std::byte*>(d);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

void Repo::check(const std::string& target) const {
  Resolved r = resolve(*m_impl->repo, m_impl->work_dir, target);
  stream_checked(r, [](const uint8_t*, size_t) {});
}

std::vector<StoredArray> Repo::versions(const std::string& name) const {
  const Repository& repo = *m_impl->repo;
  validate_name(name);
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  const std::vector<DatasetVersion>* found = &index.get(name);
  std::vector<StoredArray> out;
  for (const DatasetVersion& v : *found) {
    out.push_back(stored_array(v, Sidecar::load(Repository::sidecar_path(v.path))));
  }
  return out;
}

std::vector<std::string> Repo::datasets() const {
  const Repository& repo = *m_impl->repo;
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  std::vector<std::string> names;
  for (const auto& [name, versions] : index.by_name) {
    names.push_back(name);
  }
  return names;
}

std::string Repo::diff_json(const std::string& a, const std::string& b, double rtol, double atol,
                            bool equal_nan) const {
  DiffOptions options;
  options.a = a;
  options.b = b;
  options.work_dir = m_impl->work_dir;
  options.rtol = rtol;
  options.atol = atol;
  options.equal_nan = equal_nan;
  return to_json(dsm::diff(options)).dump();
}

VerifyResult Repo::verify(bool fast) const {
  VerifyOptions options;
  options.work_dir = m_impl->work_dir;
  options.fast = fast;
  VerifyReport report = dsm::verify(*m_impl->repo, options);
  VerifyResult out;
  out.ok = report.ok();
  out.checked = report.checked;
  for (const Finding& f : report.findings) {
    std::string problem = problem_tag(f.kind);
    if (!f.detail.empty()) {
      problem += ": " + f.detail;
    }
    out.problems.emplace_back(f.path, problem);
  }
  return out;
}

struct InterruptScope::Saved {
  struct sigaction actions[3];
};

namespace {
constexpr int k_scope_signals[3] = {SIGINT, SIGTERM, SIGHUP};
}

InterruptScope::InterruptScope() : m_saved(std::make_unique<Saved>()) {
  for (size_t i = 0; i < 3; ++i) {
    sigaction(k_scope_signals[i], nullptr, &m_saved->actions[i]);
  }
  clear_interrupted();
  install_interrupt_handlers();
}

InterruptScope::~InterruptScope() {
  int sig = interrupt_signal();
  for (size_t i = 0; i < 3; ++i) {
    sigaction(k_scope_signals[i], &m_saved->actions[i], nullptr);
  }
  clear_interrupted();
  if (sig != 0) {
    // The host's own handler gets the signal it missed (Python then raises
    // KeyboardInterrupt at its next check).
    std::raise(sig);
  }
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
