// Owning pointers for libgit2 objects (gitstatus src/git.h `Free`): every
// git_* object dsm holds lives in one of these, so an early return or a
// throw frees it. Private to the git layer (.cpp files only).
#pragma once

#include <git2.h>

#include <memory>

namespace dsm::git {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
template <typename T, void (*F)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, F>>;

using BlobPtr = Ptr<git_blob, git_blob_free>;
using CommitPtr = Ptr<git_commit, git_commit_free>;
using ConfigPtr = Ptr<git_config, git_config_free>;
using ConflictIterPtr = Ptr<git_index_conflict_iterator, git_index_conflict_iterator_free>;
using IndexPtr = Ptr<git_index, git_index_free>;
using ObjectPtr = Ptr<git_object, git_object_free>;
using OdbObjectPtr = Ptr<git_odb_object, git_odb_object_free>;
using OdbPtr = Ptr<git_odb, git_odb_free>;
using OdbStreamPtr = Ptr<git_odb_stream, git_odb_stream_free>;
using RefIterPtr = Ptr<git_reference_iterator, git_reference_iterator_free>;
using ReflogPtr = Ptr<git_reflog, git_reflog_free>;
using RefPtr = Ptr<git_reference, git_reference_free>;
using RevwalkPtr = Ptr<git_revwalk, git_revwalk_free>;
using TreeEntryPtr = Ptr<git_tree_entry, git_tree_entry_free>;
using TreePtr = Ptr<git_tree, git_tree_free>;

} // namespace dsm::git
