#include "git/git.hpp"

#include "dsm/error.hpp"
#include "git/index_file.hpp"

#include "git/git_ptr.hpp"
#include "util/sha256.hpp"

#include <git2.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

namespace dsm::git {

namespace {

void init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { git_libgit2_init(); });
}

std::string strip_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

git_oid parse_oid(const std::string& hex) {
  git_oid oid;
  check(git_oid_fromstr(&oid, hex.c_str()), "invalid object id '" + hex + "'");
  return oid;
}

OdbPtr open_odb(git_repository* repo) {
  git_odb* raw = nullptr;
  check(git_repository_odb(&raw, repo), "cannot open object database");
  return OdbPtr(raw);
}

TreePtr lookup_tree(git_repository* repo, const git_oid& oid) {
  git_tree* raw = nullptr;
  check(git_tree_lookup(&raw, repo, &oid), std::string("cannot read tree ") + git_oid_tostr_s(&oid));
  return TreePtr(raw);
}

bool is_tree(const git_tree_entry* e) {
  return git_tree_entry_type(e) == GIT_OBJECT_TREE;
}
bool is_blob(const git_tree_entry* e) {
  return git_tree_entry_type(e) == GIT_OBJECT_BLOB;
}

// Every blob under a tree, reported as added (or deleted) wholesale.
void all_blobs(git_repository* repo, const git_tree_entry* entry, const std::string& path,
               StagedChange::Kind kind, std::vector<StagedChange>& out) {
  if (is_blob(entry)) {
    std::string oid = git_oid_tostr_s(git_tree_entry_id(entry));
    StagedChange c{kind, path, "", "", static_cast<uint32_t>(git_tree_entry_filemode(entry))};
    (kind == StagedChange::Kind::deleted ? c.old_oid : c.oid) = oid;
    out.push_back(std::move(c));
    return;
  }
  if (!is_tree(entry)) {
    return; // gitlink
  }
  TreePtr tree = lookup_tree(repo, *git_tree_entry_id(entry));
  size_t n = git_tree_entrycount(tree.get());
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* child = git_tree_entry_byindex(tree.get(), i);
    all_blobs(repo, child, path + "/" + git_tree_entry_name(child), kind, out);
  }
}

// Compares two trees (either may be null), descending only where ids differ.
void diff_trees(git_repository* repo, const git_tree* old_tree, const git_tree* new_tree,
                const std::string& prefix, std::vector<StagedChange>& out) {
  std::unordered_map<std::string_view, const git_tree_entry*> old_entries;
  if (old_tree) {
    size_t n = git_tree_entrycount(old_tree);
    old_entries.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(old_tree, i);
      old_entries.emplace(git_tree_entry_name(e), e);
    }
  }
  size_t n = new_tree ? git_tree_entrycount(new_tree) : 0;
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(new_tree, i);
    std::string path = prefix + git_tree_entry_name(e);
    auto it = old_entries.find(git_tree_entry_name(e));
    const git_tree_entry* old = it == old_entries.end() ? nullptr : it->second;
    if (old) {
      old_entries.erase(it);
    }
    if (old && git_oid_equal(git_tree_entry_id(old), git_tree_entry_id(e)) &&
        git_tree_entry_filemode(old) == git_tree_entry_filemode(e)) {
      continue;
    }
    if (old && is_tree(old) && is_tree(e)) {
      TreePtr a = lookup_tree(repo, *git_tree_entry_id(old));
      TreePtr b = lookup_tree(repo, *git_tree_entry_id(e));
      diff_trees(repo, a.get(), b.get(), path + "/", out);
    } else if (old && is_blob(old) && is_blob(e)) {
      out.push_back({StagedChange::Kind::modified, path, git_oid_tostr_s(git_tree_entry_id(e)),
                     git_oid_tostr_s(git_tree_entry_id(old)),
                     static_cast<uint32_t>(git_tree_entry_filemode(e))});
    } else {
      if (old) {
        all_blobs(repo, old, path, StagedChange::Kind::deleted, out);
      }
      all_blobs(repo, e, path, StagedChange::Kind::added, out);
    }
  }
  for (const auto& [name, old] : old_entries) {
    all_blobs(repo, old, prefix + std::string(name), StagedChange::Kind::deleted, out);
  }
}

git_oid to_git_oid(const RawOid& raw) {
  git_oid oid;
  git_oid_fromraw(&oid, raw.data());
  return oid;
}

// Compares the index entries [lo, hi) (all under `prefix`) with HEAD's tree
// for that directory (null when HEAD has none). Directories whose cache-tree
// id equals HEAD's tree id are skipped without looking at their entries.
void diff_index_dir(git_repository* repo, const git_tree* head, const std::vector<IndexFileEntry>& entries,
                    size_t lo, size_t hi, const std::string& prefix, const CacheTreeNode* node,
                    std::vector<StagedChange>& out) {
  if (node && node->valid && head) {
    git_oid cached = to_git_oid(node->oid);
    if (git_oid_equal(&cached, git_tree_id(head))) {
      return;
    }
  }
  std::unordered_map<std::string_view, const git_tree_entry*> head_entries;
  if (head) {
    size_t n = git_tree_entrycount(head);
    head_entries.reserve(n);
    for (size_t k = 0; k < n; ++k) {
      const git_tree_entry* e = git_tree_entry_byindex(head, k);
      head_entries.emplace(git_tree_entry_name(e), e);
    }
  }
  auto take = [&](std::string_view name) -> const git_tree_entry* {
    auto it = head_entries.find(name);
    if (it == head_entries.end()) {
      return nullptr;
    }
    const git_tree_entry* e = it->second;
    head_entries.erase(it);
    return e;
  };
  size_t i = lo;
  while (i < hi) {
    const IndexFileEntry& ie = entries[i];
    std::string_view rest = std::string_view(ie.path).substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      const git_tree_entry* he = take(rest);
      ++i;
      if (ie.intent_to_add || ie.mode == 0160000) {
        if (he && is_blob(he) && !ie.intent_to_add) {
          all_blobs(repo, he, ie.path, StagedChange::Kind::deleted, out);
        }
        continue; // not committed as a blob
      }
      git_oid oid = to_git_oid(ie.oid);
      if (he && is_blob(he)) {
        if (!git_oid_equal(&oid, git_tree_entry_id(he)) ||
            static_cast<uint32_t>(git_tree_entry_filemode(he)) != ie.mode) {
          out.push_back({StagedChange::Kind::modified, ie.path, git_oid_tostr_s(&oid),
                         git_oid_tostr_s(git_tree_entry_id(he)), ie.mode});
        }
        continue;
      }
      if (he) {
        all_blobs(repo, he, ie.path, StagedChange::Kind::deleted, out);
      }
      out.push_back({StagedChange::Kind::added, ie.path, git_oid_tostr_s(&oid), "", ie.mode});
      continue;
    }
    std::string_view name = rest.substr(0, slash);
    std::string sub_prefix = prefix + std::string(name) + "/";
    // Everything under sub_prefix is contiguous: the index is sorted by path.
    size_t j = i + 1;
    {
      size_t a = i + 1;
      size_t b = hi;
      while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (entries[mid].path.compare(0, sub_prefix.size(), sub_prefix) == 0) {
          a = mid + 1;
        } else {
          b = mid;
        }
      }
      j = a;
    }
    const CacheTreeNode* child = nullptr;
    if (node) {
      auto it = node->children.find(name);
      child = it == node->children.end() ? nullptr : it->second.get();
    }
    const git_tree_entry* he = take(name);
    if (he && is_tree(he)) {
      TreePtr sub = lookup_tree(repo, *git_tree_entry_id(he));
      diff_index_dir(repo, sub.get(), entries, i, j, sub_prefix, child, out);
    } else {
      if (he) {
        all_blobs(repo, he, prefix + std::string(name), StagedChange::Kind::deleted, out);
      }
      diff_index_dir(repo, nullptr, entries, i, j, sub_prefix, child, out);
    }
    i = j;
  }
  for (const auto& [name, he] : head_entries) {
    all_blobs(repo, he, prefix + std::string(name), StagedChange::Kind::deleted, out);
  }
}

} // namespace

void check(int rc, const std::string& what) {
  if (rc < 0) {
    const git_error* e = git_error_last();
    throw Error(what + ": " + (e && e->message ? e->message : "libgit2 error " + std::to_string(rc)));
  }
}

Repo Repo::discover(const fs::path& start) {
  init_once();
  git_repository* repo = nullptr;
  int rc = git_repository_open_ext(&repo, start.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND) {
    throw Error("not inside a git work tree: " + quote(start.string()) + " (run 'git init' first)");
  }
  check(rc, "cannot open git repository at " + quote(start.string()));
  Repo r(repo);
  if (git_repository_is_bare(repo)) {
    throw Error("not inside a git work tree: " + quote(start.string()) + " is in a bare repository");
  }
  return r;
}

bool in_bare_repository(const fs::path& start) {
  init_once();
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, start.c_str(), 0, nullptr) != 0) {
    git_error_clear();
    return false;
  }
  bool bare = git_repository_is_bare(raw) != 0;
  git_repository_free(raw);
  return bare;
}

Repo::~Repo() {
  if (m_repo) {
    git_repository_free(m_repo);
  }
}

Repo::Repo(Repo&& o) noexcept : m_repo(o.m_repo) {
  o.m_repo = nullptr;
}

Repo& Repo::operator=(Repo&& o) noexcept {
  if (this != &o) {
    if (m_repo) {
      git_repository_free(m_repo);
    }
    m_repo = o.m_repo;
    o.m_repo = nullptr;
  }
  return *this;
}

fs::path Repo::work_tree() const {
  return strip_slash(git_repository_workdir(m_repo));
}
fs::path Repo::git_dir() const {
  return strip_slash(git_repository_path(m_repo));
}

std::optional<std::string> Repo::config_string(const std::string& key) const {
  git_config* raw = nullptr;
  check(git_repository_config_snapshot(&raw, m_repo), "cannot read git config");
  ConfigPtr cfg(raw);
  const char* value = nullptr;
  int rc = git_config_get_string(&value, cfg.get(), key.c_str());
  if (rc == GIT_ENOTFOUND) {
    return std::nullopt;
  }
  check(rc, "cannot read git config " + key);
  return std::string(value);
}

void Repo::set_local_config(const std::string& key, const std::optional<std::string>& value) const {
  git_config* raw = nullptr;
  check(git_repository_config(&raw, m_repo), "cannot open git config");
  ConfigPtr all(raw);
  git_config* local_raw = nullptr;
  check(git_config_open_level(&local_raw, all.get(), GIT_CONFIG_LEVEL_LOCAL), "cannot open .git/config");
  ConfigPtr local(local_raw);
  if (value) {
    check(git_config_set_string(local.get(), key.c_str(), value->c_str()), "cannot write git config " + key);
    return;
  }
  int rc = git_config_delete_entry(local.get(), key.c_str());
  if (rc != GIT_ENOTFOUND) {
    check(rc, "cannot write git config " + key);
  }
}

std::optional<Identity> Repo::identity() const {
  auto name = config_string("user.name");
  auto email = config_string("user.email");
  if (!name || name->empty()) {
    return std::nullopt;
  }
  return Identity{*name, email.value_or("")};
}

std::optional<std::string> Repo::head_commit() const {
  git_reference* raw = nullptr;
  int rc = git_repository_head(&raw, m_repo);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
    return std::nullopt;
  }
  check(rc, "cannot read HEAD");
  RefPtr ref(raw);
  const git_oid* oid = git_reference_target(ref.get());
  if (!oid) {
    return std::nullopt;
  }
  return std::string(git_oid_tostr_s(oid));
}

std::optional<std::string> Repo::branch() const {
  if (git_repository_head_detached(m_repo) == 1) {
    return std::nullopt;
  }
  git_reference* raw = nullptr;
  int rc = git_repository_head(&raw, m_repo);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
    // Unborn: HEAD is a symbolic ref to refs/heads/<name>.
    git_reference* head = nullptr;
    if (git_reference_lookup(&head, m_repo, "HEAD") == 0) {
      RefPtr h(head);
      const char* target = git_reference_symbolic_target(h.get());
      if (target) {
        std::string t = target;
        const std::string prefix = "refs/heads/";
        if (t.rfind(prefix, 0) == 0) {
          return t.substr(prefix.size());
        }
      }
    }
    return std::nullopt;
  }
  check(rc, "cannot read HEAD");
  RefPtr ref(raw);
  return std::string(git_reference_shorthand(ref.get()));
}

fs::path Repo::hooks_dir() const {
  git_config* raw = nullptr;
  check(git_repository_config_snapshot(&raw, m_repo), "cannot read git config");
  ConfigPtr cfg(raw);
  git_buf buf = GIT_BUF_INIT;
  int rc = git_config_get_path(&buf, cfg.get(), "core.hooksPath");
  if (rc == 0) {
    fs::path p(buf.ptr);
    git_buf_dispose(&buf);
    // git runs hooks from the work tree root, so a relative hooksPath is
    // relative to it.
    return p.is_absolute() ? p : work_tree() / p;
  }
  if (rc != GIT_ENOTFOUND) {
    check(rc, "cannot read core.hooksPath");
  }
  // Hooks are shared by all worktrees: they live in the common dir.
  check(git_repository_item_path(&buf, m_repo, GIT_REPOSITORY_ITEM_HOOKS), "cannot locate hooks directory");
  fs::path p = strip_slash(buf.ptr);
  git_buf_dispose(&buf);
  return p;
}

fs::path Repo::index_path() const {
  const char* env = std::getenv("GIT_INDEX_FILE");
  if (env && *env) {
    return fs::absolute(env);
  }
  return git_dir() / "index";
}

namespace {

IndexPtr open_index(const Repo& repo) {
  git_index* raw = nullptr;
  const char* env = std::getenv("GIT_INDEX_FILE");
  if (env && *env) {
    fs::path p = repo.index_path();
    check(git_index_open(&raw, p.c_str()), "cannot read the git index " + quote(p.string()));
    return IndexPtr(raw);
  }
  check(git_repository_index(&raw, repo.raw()), "cannot open the git index");
  IndexPtr index(raw);
  check(git_index_read(index.get(), 1), "cannot read the git index");
  return index;
}

} // namespace

std::vector<IndexEntry> Repo::index_entries() const {
  IndexPtr index = open_index(*this);
  std::vector<IndexEntry> out;
  size_t n = git_index_entrycount(index.get());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const git_index_entry* e = git_index_get_byindex(index.get(), i);
    if (!e || git_index_entry_stage(e) != 0) {
      continue; // conflicted entries are git's business
    }
    out.push_back({e->path, git_oid_tostr_s(&e->id), e->file_size, e->mode});
  }
  return out;
}

std::vector<std::string> Repo::tracked_under(const std::string& prefix) const {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') {
    p += '/';
  }
  std::vector<std::string> out;
  for (auto& e : index_entries()) {
    if (p.empty() || e.path.rfind(p, 0) == 0) {
      out.push_back(e.path);
    }
  }
  return out;
}

std::string blob_id(std::string_view content) {
  init_once();
  git_oid oid;
  check(git_odb_hash(&oid, content.data(), content.size(), GIT_OBJECT_BLOB), "cannot hash a blob");
  return git_oid_tostr_s(&oid);
}

std::string Repo::read_blob(const std::string& oid_hex, uint64_t max_size) const {
  git_oid oid = parse_oid(oid_hex);
  git_blob* raw = nullptr;
  check(git_blob_lookup(&raw, m_repo, &oid), "cannot read blob " + oid_hex);
  BlobPtr blob(raw);
  auto size = static_cast<uint64_t>(git_blob_rawsize(blob.get()));
  if (size > max_size) {
    throw Error("blob " + oid_hex + " is too large to read (" + std::to_string(size) + " bytes)");
  }
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  return std::string(data, size);
}

std::optional<std::string> Repo::read_head_file(const std::string& path) const {
  git_object* raw = nullptr;
  std::string spec = "HEAD:" + path;
  int rc = git_revparse_single(&raw, m_repo, spec.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
    return std::nullopt;
  }
  check(rc, "cannot read " + spec);
  ObjectPtr obj(raw);
  if (git_object_type(obj.get()) != GIT_OBJECT_BLOB) {
    return std::nullopt;
  }
  return read_blob(git_oid_tostr_s(git_object_id(obj.get())));
}

std::vector<HeadFile> Repo::head_files_under(const std::string& prefix) const {
  std::vector<HeadFile> out;
  git_object* raw = nullptr;
  std::string spec = "HEAD:" + prefix;
  int rc = git_revparse_single(&raw, m_repo, spec.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
    return out;
  }
  check(rc, "cannot read " + spec);
  ObjectPtr obj(raw);
  if (git_object_type(obj.get()) != GIT_OBJECT_TREE) {
    return out;
  }
  // Fast path: when the index's cache-tree holds prefix's tree with HEAD's
  // id, the index lists exactly HEAD's files under prefix, and reading the
  // index costs far less than loading every subtree (10,000 of them for
  // 10,000 datasets, most of `dsm status`'s git time). git keeps the
  // cache-tree valid for every directory nothing was staged in since commit.
  if (auto index = read_index_file(index_path()); index && index->cache_tree) {
    const CacheTreeNode* node = index->cache_tree.get();
    size_t start = 0;
    while (node != nullptr && start < prefix.size()) {
      size_t slash = prefix.find('/', start);
      std::string_view part = std::string_view(prefix).substr(
          start, slash == std::string::npos ? std::string::npos : slash - start);
      auto it = node->children.find(part);
      node = it == node->children.end() ? nullptr : it->second.get();
      start = slash == std::string::npos ? prefix.size() : slash + 1;
    }
    git_oid cached{};
    if (node != nullptr) {
      cached = to_git_oid(node->oid);
    }
    if (node != nullptr && node->valid && git_oid_equal(git_object_id(obj.get()), &cached)) {
      const std::string base = prefix.empty() ? std::string() : prefix + "/";
      bool usable = true;
      for (const auto& e : index->entries) {
        if (!e.path.starts_with(base)) {
          continue;
        }
        if (e.stage != 0 || e.intent_to_add) {
          usable = false; // not what a tree records: take the slow path
          break;
        }
        if ((e.mode & 0170000) != 0160000) { // submodules are not blobs
          out.push_back({e.path, e.oid});
        }
      }
      if (usable) {
        return out;
      }
      out.clear();
    }
  }
  struct Walk {
    std::vector<HeadFile>* out;
    std::string base;
  } w{&out, prefix.empty() ? std::string() : prefix + "/"};
  auto cb = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB) {
      auto* wk = static_cast<Walk*>(payload);
      HeadFile& f = wk->out->emplace_back();
      f.path = wk->base + root + git_tree_entry_name(entry);
      std::memcpy(f.oid.data(), git_tree_entry_id(entry)->id, f.oid.size());
    }
    return 0;
  };
  check(git_tree_walk(reinterpret_cast<git_tree*>(obj.get()), GIT_TREEWALK_PRE, cb, &w),
        "cannot walk " + spec);
  return out;
}

std::vector<std::string>
Repo::differ_from_head(const std::vector<HeadFile>& files,
                       const std::function<bool(const std::string& path, struct ::stat& st)>& stat_of) const {
  std::vector<std::string> out;
  if (files.empty()) {
    return out;
  }
  const fs::path index_file = index_path();
  std::optional<IndexFile> index = read_index_file(index_file);
  struct stat index_st {};
  bool have_index_time = ::stat(index_file.c_str(), &index_st) == 0;
  const fs::path root = work_tree();
  for (const HeadFile& f : files) {
    const fs::path abs = root / f.path;
    struct stat st {};
    if (stat_of ? !stat_of(f.path, st) : ::lstat(abs.c_str(), &st) != 0) {
      continue;
    }
    const IndexFileEntry* e = nullptr;
    if (index) {
      auto it = std::lower_bound(index->entries.begin(), index->entries.end(), f.path,
                                 [](const IndexFileEntry& x, const std::string& p) { return x.path < p; });
      if (it != index->entries.end() && it->path == f.path && it->stage == 0) {
        e = &*it;
      }
    }
    if (e != nullptr && e->oid == f.oid && have_index_time && S_ISREG(st.st_mode) &&
        e->size == static_cast<uint32_t>(st.st_size) && e->ino == static_cast<uint32_t>(st.st_ino) &&
        e->mtime_s == static_cast<uint32_t>(st.st_mtim.tv_sec) &&
        e->mtime_ns == static_cast<uint32_t>(st.st_mtim.tv_nsec) &&
        e->ctime_s == static_cast<uint32_t>(st.st_ctim.tv_sec) &&
        e->ctime_ns == static_cast<uint32_t>(st.st_ctim.tv_nsec)) {
      // Racily clean (git's rule): modified in the same tick as the index was
      // written, so the stat data cannot tell. Hash it.
      bool racy =
          st.st_mtim.tv_sec > index_st.st_mtim.tv_sec ||
          (st.st_mtim.tv_sec == index_st.st_mtim.tv_sec && st.st_mtim.tv_nsec >= index_st.st_mtim.tv_nsec);
      if (!racy) {
        continue;
      }
    }
    if (!S_ISREG(st.st_mode)) {
      // A FIFO would block the hash forever, a symlink is not the file HEAD
      // holds: either way not what HEAD has (issue #15).
      out.push_back(f.path);
      continue;
    }
    git_oid now{};
    if (git_repository_hashfile(&now, m_repo, f.path.c_str(), GIT_OBJECT_BLOB, nullptr) != 0) {
      git_error_clear();
      out.push_back(f.path); // unreadable: not what HEAD has, as far as anyone can tell
      continue;
    }
    git_oid head = to_git_oid(f.oid);
    if (!git_oid_equal(&now, &head)) {
      out.push_back(f.path);
    }
  }
  return out;
}

std::vector<std::string> Repo::history(size_t limit) const {
  std::vector<std::string> out;
  if (!head_commit()) {
    return out;
  }
  git_revwalk* raw = nullptr;
  check(git_revwalk_new(&raw, m_repo), "cannot walk history");
  RevwalkPtr walk(raw);
  git_revwalk_sorting(walk.get(),
                      GIT_SORT_TOPOLOGICAL |
                          GIT_SORT_TIME); // topological: commits made in the same second stay in order
  check(git_revwalk_push_head(walk.get()), "cannot walk history");
  git_oid oid;
  while (out.size() < limit && git_revwalk_next(&oid, walk.get()) == 0) {
    out.emplace_back(git_oid_tostr_s(&oid));
  }
  return out;
}

std::vector<StagedChange> Repo::staged_changes() const {
  // Fastest path: `git commit` writes every tree into the index's
  // cache-tree before running the hook, so its root says what the commit
  // will record; equal to HEAD's tree means nothing is staged.
  fs::path index_file = index_path();
  std::optional<std::string> head_hex = head_commit();
  if (head_hex) {
    if (auto root = read_index_root_tree(index_file)) {
      git_oid oid = parse_oid(*head_hex);
      git_commit* craw = nullptr;
      check(git_commit_lookup(&craw, m_repo, &oid), "cannot read HEAD");
      CommitPtr commit(craw);
      git_oid staged = to_git_oid(*root);
      if (git_oid_equal(&staged, git_commit_tree_id(commit.get()))) {
        return {};
      }
      // git has written the staged trees (it does before running the hook):
      // compare tree objects, which touches only the directories that differ.
      git_tree* sraw = nullptr;
      if (git_tree_lookup(&sraw, m_repo, &staged) == 0) {
        TreePtr staged_tree(sraw);
        TreePtr head = lookup_tree(m_repo, *git_commit_tree_id(commit.get()));
        std::vector<StagedChange> out;
        diff_trees(m_repo, head.get(), staged_tree.get(), "", out);
        std::sort(out.begin(), out.end(),
                  [](const StagedChange& a, const StagedChange& b) { return a.path < b.path; });
        return out;
      }
      git_error_clear();
    }
  }
  // Fast path: read the index file directly (see git/index_file.hpp).
  if (auto index = read_index_file(index_file)) {
    for (const auto& e : index->entries) {
      if (e.stage != 0) {
        throw Error("the index has unresolved conflicts: resolve them and 'git add' the result first");
      }
    }
    TreePtr head;
    if (head_hex) {
      git_oid oid = parse_oid(*head_hex);
      git_commit* craw = nullptr;
      check(git_commit_lookup(&craw, m_repo, &oid), "cannot read HEAD");
      CommitPtr commit(craw);
      head = lookup_tree(m_repo, *git_commit_tree_id(commit.get()));
    }
    std::vector<StagedChange> out;
    diff_index_dir(m_repo, head.get(), index->entries, 0, index->entries.size(), "", index->cache_tree.get(),
                   out);
    std::sort(out.begin(), out.end(),
              [](const StagedChange& a, const StagedChange& b) { return a.path < b.path; });
    return out;
  }
  IndexPtr index = open_index(*this);
  if (git_index_has_conflicts(index.get())) {
    throw Error("the index has unresolved conflicts: resolve them and 'git add' the result first");
  }
  // Uses (and fills) the index's cache-tree, which git keeps valid for every
  // directory `git add` did not touch, so this hashes only changed trees.
  // It writes those tree objects to the object database, as `git commit` is
  // about to do anyway.
  git_oid staged_tree_id;
  check(git_index_write_tree_to(&staged_tree_id, index.get(), m_repo), "cannot compute the staged tree");
  TreePtr staged = lookup_tree(m_repo, staged_tree_id);
  TreePtr head;
  if (auto commit_hex = head_commit()) {
    git_oid oid = parse_oid(*commit_hex);
    git_commit* craw = nullptr;
    check(git_commit_lookup(&craw, m_repo, &oid), "cannot read HEAD");
    CommitPtr commit(craw);
    if (git_oid_equal(git_commit_tree_id(commit.get()), &staged_tree_id)) {
      return {};
    }
    head = lookup_tree(m_repo, *git_commit_tree_id(commit.get()));
  }
  std::vector<StagedChange> out;
  diff_trees(m_repo, head.get(), staged.get(), "", out);
  std::sort(out.begin(), out.end(),
            [](const StagedChange& a, const StagedChange& b) { return a.path < b.path; });
  return out;
}

std::optional<std::string> Repo::index_oid(const std::string& path) const {
  IndexPtr index = open_index(*this);
  const git_index_entry* e = git_index_get_bypath(index.get(), path.c_str(), 0);
  if (!e) {
    return std::nullopt;
  }
  return std::string(git_oid_tostr_s(&e->id));
}

uint64_t Repo::blob_size(const std::string& oid_hex) const {
  git_oid oid = parse_oid(oid_hex);
  OdbPtr odb = open_odb(m_repo);
  size_t size = 0;
  git_object_t type{};
  check(git_odb_read_header(&size, &type, odb.get(), &oid), "cannot read object " + oid_hex);
  return size;
}

BlobWindow Repo::blob_window(const std::string& oid_hex, size_t head_bytes, size_t tail_bytes) const {
  git_oid oid = parse_oid(oid_hex);
  OdbPtr odb = open_odb(m_repo);
  size_t size = 0;
  git_object_t type{};
  check(git_odb_read_header(&size, &type, odb.get(), &oid), "cannot read object " + oid_hex);
  BlobWindow w;
  w.size = size;
  auto read_whole = [&] {
    git_odb_object* raw = nullptr;
    check(git_odb_read(&raw, odb.get(), &oid), "cannot read object " + oid_hex);
    OdbObjectPtr obj(raw);
    std::string_view data(static_cast<const char*>(git_odb_object_data(obj.get())),
                          git_odb_object_size(obj.get()));
    return std::string(data);
  };
  if (size <= head_bytes + tail_bytes) {
    w.head = read_whole();
    w.tail = w.head;
    w.complete = true;
    return w;
  }
  git_odb_stream* sraw = nullptr;
  size_t len = 0;
  if (git_odb_open_rstream(&sraw, &len, &type, odb.get(), &oid) == 0) {
    OdbStreamPtr stream(sraw);
    std::string buf(64u << 10, '\0');
    for (;;) {
      int n = git_odb_stream_read(stream.get(), buf.data(), buf.size());
      check(n, "cannot read object " + oid_hex);
      if (n == 0) {
        break;
      }
      std::string_view chunk(buf.data(), static_cast<size_t>(n));
      if (w.head.size() < head_bytes) {
        w.head.append(chunk.substr(0, head_bytes - w.head.size()));
      }
      w.tail.append(chunk);
      // Keep at most twice the tail so trimming stays amortised O(1).
      if (w.tail.size() > 2 * tail_bytes) {
        w.tail.erase(0, w.tail.size() - tail_bytes);
      }
    }
    if (w.tail.size() > tail_bytes) {
      w.tail.erase(0, w.tail.size() - tail_bytes);
    }
    return w;
  }
  // Packed objects cannot be streamed by libgit2: read it whole, once.
  git_error_clear();
  std::string all = read_whole();
  w.head = all.substr(0, head_bytes);
  w.tail = all.substr(all.size() - tail_bytes);
  return w;
}

bool Repo::pathspec_matches(const std::vector<std::string>& specs, const std::string& path) const {
  if (specs.empty()) {
    return false;
  }
  std::vector<char*> strings;
  strings.reserve(specs.size());
  for (const std::string& s : specs) {
    strings.push_back(const_cast<char*>(s.c_str())); // libgit2 copies them
  }
  git_strarray array{strings.data(), strings.size()};
  git_pathspec* raw = nullptr;
  check(git_pathspec_new(&raw, &array), "invalid pathspec in 'allow'");
  std::unique_ptr<git_pathspec, void (*)(git_pathspec*)> ps(raw, git_pathspec_free);
  return git_pathspec_matches_path(ps.get(), 0, path.c_str()) == 1;
}

std::string Repo::blob_sha256(const std::string& oid_hex) const {
  git_oid oid = parse_oid(oid_hex);
  OdbPtr odb = open_odb(m_repo);
  util::Sha256 sha;
  git_odb_stream* sraw = nullptr;
  size_t len = 0;
  git_object_t type{};
  if (git_odb_open_rstream(&sraw, &len, &type, odb.get(), &oid) == 0) {
    OdbStreamPtr stream(sraw);
    std::string buf(256u << 10, '\0');
    for (;;) {
      int n = git_odb_stream_read(stream.get(), buf.data(), buf.size());
      check(n, "cannot read object " + oid_hex);
      if (n == 0) {
        break;
      }
      sha.update(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(n));
    }
    return sha.hex_digest();
  }
  git_error_clear();
  git_odb_object* raw = nullptr;
  check(git_odb_read(&raw, odb.get(), &oid), "cannot read object " + oid_hex);
  OdbObjectPtr obj(raw);
  sha.update(static_cast<const uint8_t*>(git_odb_object_data(obj.get())), git_odb_object_size(obj.get()));
  return sha.hex_digest();
}

std::vector<HistoryBlob> Repo::history_blobs(size_t commits) const {
  std::vector<HistoryBlob> out;
  std::unordered_set<std::string> seen_trees;
  std::unordered_set<std::string> seen_blobs; // oid + '/' + name: the name decides the extension check
  struct Walker {
    git_repository* repo;
    std::unordered_set<std::string>& trees;
    std::unordered_set<std::string>& blobs;
    std::vector<HistoryBlob>& out;
    std::string commit;
    void walk(const git_tree* tree, const std::string& prefix) {
      size_t n = git_tree_entrycount(tree);
      for (size_t i = 0; i < n; ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(tree, i);
        std::string oid = git_oid_tostr_s(git_tree_entry_id(e));
        std::string name = git_tree_entry_name(e);
        if (is_tree(e)) {
          if (trees.insert(oid).second) {
            TreePtr sub = lookup_tree(repo, *git_tree_entry_id(e));
            walk(sub.get(), prefix + name + "/");
          }
        } else if (is_blob(e) && blobs.insert(oid + "/" + name).second) {
          out.push_back({prefix + name, oid, commit, static_cast<uint32_t>(git_tree_entry_filemode(e))});
        }
      }
    }
  } walker{m_repo, seen_trees, seen_blobs, out, {}};
  for (const auto& commit_hex : history(commits)) {
    git_oid oid = parse_oid(commit_hex);
    git_commit* craw = nullptr;
    check(git_commit_lookup(&craw, m_repo, &oid), "cannot read commit " + commit_hex);
    CommitPtr commit(craw);
    std::string tree_hex = git_oid_tostr_s(git_commit_tree_id(commit.get()));
    if (!seen_trees.insert(tree_hex).second) {
      continue;
    }
    TreePtr tree = lookup_tree(m_repo, *git_commit_tree_id(commit.get()));
    walker.commit = commit_hex;
    walker.walk(tree.get(), "");
  }
  return out;
}

} // namespace dsm::git
