// What git references: see references.hpp.
#include "git/references.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"

#include "git/git_ptr.hpp"

#include <git2.h>

#include <functional>
#include <memory>
#include <set>
#include <sys/stat.h>

namespace dsm::git {

namespace {

// The blob id of `path` in commit `id`'s tree, or nullopt.
std::optional<std::string> blob_in_commit(git_repository* repo, const git_oid& id, const std::string& path) {
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo, &id) != 0) {
    return std::nullopt;
  }
  CommitPtr commit(c);
  git_tree* t = nullptr;
  if (git_commit_tree(&t, commit.get()) != 0) {
    return std::nullopt;
  }
  TreePtr tree(t);
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, tree.get(), path.c_str()) != 0) {
    return std::nullopt;
  }
  TreeEntryPtr entry(e);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) {
    return std::nullopt;
  }
  return std::string(git_oid_tostr_s(git_tree_entry_id(entry.get())));
}

std::string describe_ref(const std::string& name) {
  auto strip = [&](const char* prefix) { return name.substr(std::string(prefix).size()); };
  if (name.starts_with("refs/heads/")) {
    return "branch " + quote(strip("refs/heads/"));
  }
  if (name.starts_with("refs/remotes/")) {
    return quote(strip("refs/remotes/"));
  }
  if (name.starts_with("refs/tags/")) {
    return "tag " + quote(strip("refs/tags/"));
  }
  return quote(name);
}

IndexPtr open_index(const Repo& repo) {
  git_index* raw = nullptr;
  fs::path p = repo.index_path();
  struct ::stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    // No index yet (a fresh repository): an empty one.
    check(git_index_new(&raw), "cannot create an index");
    return IndexPtr(raw);
  }
  check(git_index_open(&raw, p.c_str()), "cannot read the git index " + quote(p.string()));
  return IndexPtr(raw);
}

// What an operation in progress (merge, cherry-pick, rebase, revert) names
// its other side: declared in references.hpp.
const char* const k_operation_heads_list[] = {"MERGE_HEAD", "CHERRY_PICK_HEAD", "REBASE_HEAD", "REVERT_HEAD"};

// Commits git keeps that no ref under refs/ names: the other side of an
// operation in progress, and every stash entry (refs/stash names only the
// newest; the others live in its reflog). `f(id, label)`.
void for_each_unnamed_commit(git_repository* r,
                             const std::function<void(const git_oid&, const std::string&)>& f) {
  for (const char* head : operation_heads()) {
    git_object* obj = nullptr;
    std::string spec = std::string(head) + "^{commit}";
    if (git_revparse_single(&obj, r, spec.c_str()) == 0) {
      ObjectPtr commit(obj);
      f(*git_object_id(commit.get()), head);
    } else {
      git_error_clear();
    }
  }
  git_reflog* log_raw = nullptr;
  if (git_reflog_read(&log_raw, r, "refs/stash") == 0) {
    ReflogPtr log(log_raw);
    size_t n = git_reflog_entrycount(log.get());
    for (size_t i = 0; i < n; ++i) {
      const git_reflog_entry* e = git_reflog_entry_byindex(log.get(), i);
      f(*git_reflog_entry_id_new(e), "stash@{" + std::to_string(i) + "}");
    }
  }
}

} // namespace

std::vector<RefBlob> blobs_at_refs(const Repo& repo, const std::string& path) {
  git_repository* r = repo.raw();
  std::vector<RefBlob> out;
  auto add_commit = [&](const git_oid& id, const std::string& source) {
    if (auto oid = blob_in_commit(r, id, path)) {
      out.push_back({source, *oid});
    }
  };
  // HEAD first: messages name the most familiar source.
  git_object* head = nullptr;
  if (git_revparse_single(&head, r, "HEAD^{commit}") == 0) {
    ObjectPtr h(head);
    add_commit(*git_object_id(h.get()), "HEAD");
  }
  git_reference_iterator* it_raw = nullptr;
  check(git_reference_iterator_new(&it_raw, r), "cannot list the git refs");
  RefIterPtr it(it_raw);
  git_reference* ref_raw = nullptr;
  while (git_reference_next(&ref_raw, it.get()) == 0) {
    RefPtr ref(ref_raw);
    std::string name = git_reference_name(ref.get());
    if (name == "refs/stash") {
      continue; // every entry below, from its reflog
    }
    git_object* obj = nullptr;
    if (git_reference_peel(&obj, ref.get(), GIT_OBJECT_COMMIT) != 0) {
      git_error_clear();
      continue; // a ref to a blob or tree, or a broken ref: nothing to keep
    }
    ObjectPtr commit(obj);
    add_commit(*git_object_id(commit.get()), describe_ref(name));
  }
  for_each_unnamed_commit(r, add_commit);
  IndexPtr index = open_index(repo);
  for (int stage = 0; stage <= 3; ++stage) {
    if (const git_index_entry* e = git_index_get_bypath(index.get(), path.c_str(), stage)) {
      out.push_back({"the index", git_oid_tostr_s(&e->id)});
    }
  }
  return out;
}

UnpushedBlobs blobs_in_unpushed_commits(const Repo& repo, const std::vector<std::string>& tips,
                                        const std::vector<std::string>& hide, const std::string& path) {
  git_repository* r = repo.raw();
  git_revwalk* walk_raw = nullptr;
  check(git_revwalk_new(&walk_raw, r), "cannot walk the git history");
  RevwalkPtr walk(walk_raw);
  auto parse = [](const std::string& hex, git_oid& id) { return git_oid_fromstr(&id, hex.c_str()) == 0; };
  for (const std::string& tip : tips) {
    git_oid id;
    if (!parse(tip, id)) {
      throw Error("not an object id: " + quote(tip));
    }
    // An annotated tag is walked from its commit; a tag of a tree or blob
    // carries no manifest history.
    git_object* raw = nullptr;
    check(git_object_lookup(&raw, r, &id, GIT_OBJECT_ANY), "cannot find the pushed object " + tip);
    ObjectPtr obj(raw);
    git_object* peeled_raw = nullptr;
    if (git_object_peel(&peeled_raw, obj.get(), GIT_OBJECT_COMMIT) != 0) {
      git_error_clear();
      continue;
    }
    ObjectPtr peeled(peeled_raw);
    check(git_revwalk_push(walk.get(), git_object_id(peeled.get())), "cannot walk the history of " + tip);
  }
  for (const std::string& h : hide) {
    git_oid id;
    if (parse(h, id) && git_revwalk_hide(walk.get(), &id) != 0) {
      git_error_clear(); // not here: the remote has commits this clone lacks
    }
  }
  if (git_revwalk_hide_glob(walk.get(), "refs/remotes/*") != 0) {
    git_error_clear(); // no remote-tracking refs (or a broken one): hide nothing more
  }
  UnpushedBlobs out;
  std::set<std::string> seen;
  std::set<std::string> walked;
  std::set<std::string> parents;
  git_oid id;
  int rc = 0;
  while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
    ++out.commits;
    walked.insert(git_oid_tostr_s(&id));
    if (auto blob = blob_in_commit(r, id, path); blob && seen.insert(*blob).second) {
      out.blobs.push_back(*blob);
    }
    git_commit* c = nullptr;
    check(git_commit_lookup(&c, r, &id), "cannot read commit " + std::string(git_oid_tostr_s(&id)));
    CommitPtr commit(c);
    for (unsigned i = 0; i < git_commit_parentcount(commit.get()); ++i) {
      parents.insert(git_oid_tostr_s(git_commit_parent_id(commit.get(), i)));
    }
  }
  if (rc != GIT_ITEROVER) {
    check(rc, "cannot walk the git history");
  }
  std::set<std::string> boundary_seen;
  for (const std::string& p : parents) {
    git_oid pid;
    if (walked.count(p) == 0 && git_oid_fromstr(&pid, p.c_str()) == 0) {
      if (auto blob = blob_in_commit(r, pid, path); blob && boundary_seen.insert(*blob).second) {
        out.boundary_blobs.push_back(*blob);
      }
    }
  }
  return out;
}

std::vector<std::string> blobs_in_history(const Repo& repo, const std::string& path) {
  git_repository* r = repo.raw();
  git_revwalk* walk_raw = nullptr;
  check(git_revwalk_new(&walk_raw, r), "cannot walk the git history");
  RevwalkPtr walk(walk_raw);
  git_revwalk_sorting(walk.get(), GIT_SORT_NONE);
  // Every ref (refs/stash too: its commit's parents are the stashed index
  // and untracked files); a ref to a tree or blob is skipped by the glob.
  if (git_revwalk_push_glob(walk.get(), "*") != 0) {
    git_error_clear();
  }
  git_object* head = nullptr;
  if (git_revparse_single(&head, r, "HEAD^{commit}") == 0) {
    ObjectPtr commit(head);
    check(git_revwalk_push(walk.get(), git_object_id(commit.get())), "cannot walk from HEAD");
  } else {
    git_error_clear();
  }
  for_each_unnamed_commit(r, [&walk](const git_oid& id, const std::string& label) {
    if (git_revwalk_push(walk.get(), &id) != 0) {
      if (label.starts_with("stash@")) {
        git_error_clear(); // an old stash entry whose commit is gone: nothing to keep
      } else {
        check(-1, "cannot walk from " + label);
      }
    }
  });
  std::set<std::string> seen;
  std::vector<std::string> out;
  auto keep = [&](const std::string& oid) {
    if (seen.insert(oid).second) {
      out.push_back(oid);
    }
  };
  git_oid id;
  while (true) {
    int rc = git_revwalk_next(&id, walk.get());
    if (rc == GIT_ITEROVER) {
      break;
    }
    check(rc, "cannot walk the git history");
    if (auto oid = blob_in_commit(r, id, path)) {
      keep(*oid);
    }
  }
  IndexPtr index = open_index(repo);
  for (int stage = 0; stage <= 3; ++stage) {
    if (const git_index_entry* e = git_index_get_bypath(index.get(), path.c_str(), stage)) {
      keep(git_oid_tostr_s(&e->id));
    }
  }
  return out;
}

std::vector<IndexConflict> index_conflicts(const Repo& repo) {
  IndexPtr index = open_index(repo);
  std::vector<IndexConflict> out;
  if (!git_index_has_conflicts(index.get())) {
    return out;
  }
  git_index_conflict_iterator* raw = nullptr;
  check(git_index_conflict_iterator_new(&raw, index.get()), "cannot read the conflicts of the git index");
  ConflictIterPtr it(raw);
  const git_index_entry* a = nullptr;
  const git_index_entry* o = nullptr;
  const git_index_entry* t = nullptr;
  while (git_index_conflict_next(&a, &o, &t, it.get()) == 0) {
    IndexConflict c;
    const git_index_entry* any = a ? a : (o ? o : t);
    c.path = any->path;
    auto id = [](const git_index_entry* e) -> std::optional<std::string> {
      return e ? std::optional<std::string>(git_oid_tostr_s(&e->id)) : std::nullopt;
    };
    c.ancestor = id(a);
    c.ours = id(o);
    c.theirs = id(t);
    out.push_back(std::move(c));
  }
  return out;
}

std::span<const char* const> operation_heads() {
  return k_operation_heads_list;
}

bool operation_in_progress(const Repo& repo) {
  return git_repository_state(repo.raw()) != GIT_REPOSITORY_STATE_NONE;
}

std::optional<std::string> blob_at(const Repo& repo, const std::string& rev, const std::string& path) {
  git_object* raw = nullptr;
  std::string spec = rev + "^{commit}";
  if (git_revparse_single(&raw, repo.raw(), spec.c_str()) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  ObjectPtr commit(raw);
  return blob_in_commit(repo.raw(), *git_object_id(commit.get()), path);
}

void set_local_config(const Repo& repo, const std::string& key, const std::string& value) {
  git_config* raw = nullptr;
  check(git_repository_config(&raw, repo.raw()), "cannot open the git config");
  ConfigPtr config(raw);
  git_config* local_raw = nullptr;
  check(git_config_open_level(&local_raw, config.get(), GIT_CONFIG_LEVEL_LOCAL), "cannot open .git/config");
  ConfigPtr local(local_raw);
  check(git_config_set_string(local.get(), key.c_str(), value.c_str()),
        "cannot set " + key + " in .git/config");
}

void stage_paths(const Repo& repo, const std::vector<std::string>& paths) {
  git_index* raw = nullptr;
  check(git_repository_index(&raw, repo.raw()), "cannot open the git index");
  IndexPtr index(raw);
  check(git_index_read(index.get(), 1), "cannot read the git index");
  for (const std::string& p : paths) {
    struct ::stat st {};
    if (::lstat((repo.work_tree() / p).c_str(), &st) == 0) {
      check(git_index_add_bypath(index.get(), p.c_str()), "cannot stage " + quote(p));
    } else {
      check(git_index_remove_bypath(index.get(), p.c_str()), "cannot unstage " + quote(p));
    }
  }
  check(git_index_write(index.get()), "cannot write the git index");
}

void stage_content(const Repo& repo, const std::string& path, const std::string& content) {
  git_index* raw = nullptr;
  check(git_repository_index(&raw, repo.raw()), "cannot open the git index");
  IndexPtr index(raw);
  check(git_index_read(index.get(), 1), "cannot read the git index");
  // No stat facts: they describe no file, so git compares the work tree's
  // file by content (a copied entry's facts could make git take an edited
  // file for the staged one).
  git_index_entry entry{};
  const git_index_entry* old = git_index_get_bypath(index.get(), path.c_str(), 0);
  entry.mode = old ? old->mode : static_cast<uint32_t>(GIT_FILEMODE_BLOB);
  entry.path = path.c_str();
  check(git_index_add_from_buffer(index.get(), &entry, content.data(), content.size()),
        "cannot stage " + quote(path));
  check(git_index_write(index.get()), "cannot write the git index");
}

} // namespace dsm::git
