// The managed block dsm keeps in the work tree's root `.gitignore`: it keeps
// payloads in the data directory (and dsm's local state and temp files) out
// of git while sidecars and the manifest stay tracked.
//
//   # >>> dsm managed block: do not edit (run 'dsm init' to repair)
//   /data/**/*.npy
//   /data/**/*.npz
//   .dsm-tmp-*
//   /.dsm/local/
//   # <<< dsm managed block
//
// Lines outside the markers belong to the user and are never touched.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsm {
class Repository;
}

namespace dsm::gitignore {

inline constexpr std::string_view k_begin = "# >>> dsm managed block: do not edit (run 'dsm init' to repair)";
inline constexpr std::string_view k_end = "# <<< dsm managed block";

// The block for a data dir (relative to the root, '/'-separated) and the
// payload extensions, markers included, ending in a newline.
std::string render_block(const std::string& data_dir_rel, const std::vector<std::string>& extensions);
std::string render_block(const Repository& repo);

enum class BlockState {
  missing,    // no block at all
  intact,     // exactly one block, byte-for-byte as render_block says
  modified,   // a block (or a stray marker) whose lines differ, or several blocks
};
BlockState check_block(std::string_view gitignore_text, std::string_view block);

// `text` with exactly one intact block: the first block is replaced in
// place, further blocks and stray markers are dropped, a missing block is
// appended. Idempotent: repair_text(repair_text(t)) == repair_text(t).
std::string repair_text(std::string_view text, std::string_view block);

// The state of `<root>/.gitignore` (missing file = BlockState::missing).
BlockState check(const Repository& repo);
// Repairs `<root>/.gitignore` atomically; returns true when it changed.
bool ensure(const Repository& repo);

// Escapes a path for a .gitignore pattern (wildcards, '\\', '!', '#', spaces).
std::string escape_pattern(std::string_view path);

} // namespace dsm::gitignore
