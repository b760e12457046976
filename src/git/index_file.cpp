#include "git/index_file.hpp"

#include "util/file.hpp"

#include <cstdio>
#include <cstring>

namespace dsm::git {

namespace {

constexpr size_t k_oid_size = 20;
constexpr size_t k_stat_size = 40; // ctime, mtime, dev, ino, mode, uid, gid, size
constexpr uint16_t k_flag_extended = 0x4000;
constexpr uint16_t k_ext_intent_to_add = 0x2000;

class Reader {
public:
  explicit Reader(std::string_view data) : m_data(data) {}
  bool has(size_t n) const { return m_at <= m_data.size() && n <= m_data.size() - m_at; }
  uint32_t u32() {
    auto b = reinterpret_cast<const uint8_t*>(m_data.data() + m_at);
    m_at += 4;
    return static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 |
           static_cast<uint32_t>(b[2]) << 8 | b[3];
  }
  uint16_t u16() {
    auto b = reinterpret_cast<const uint8_t*>(m_data.data() + m_at);
    m_at += 2;
    return static_cast<uint16_t>(b[0] << 8 | b[1]);
  }
  size_t at() const { return m_at; }
  void seek(size_t at) { m_at = at; }
  std::string_view rest() const { return m_data.substr(m_at); }
  const char* ptr() const { return m_data.data() + m_at; }

private:
  std::string_view m_data;
  size_t m_at = 0;
};

// git's offset varint (varint.c decode_varint), used by index v4.
bool varint(Reader& r, uint64_t& out) {
  if (!r.has(1)) {
    return false;
  }
  auto c = static_cast<uint8_t>(*r.ptr());
  r.seek(r.at() + 1);
  uint64_t val = c & 127;
  while (c & 128) {
    if (!r.has(1) || val > (UINT64_MAX >> 8)) {
      return false;
    }
    c = static_cast<uint8_t>(*r.ptr());
    r.seek(r.at() + 1);
    val = ((val + 1) << 7) + (c & 127);
  }
  out = val;
  return true;
}

// TREE extension: pre-order list of "<name>\0<entry_count> <subtrees>\n[oid]".
bool parse_tree_node(std::string_view& data, CacheTreeNode& node, std::string& name) {
  size_t nul = data.find('\0');
  if (nul == std::string_view::npos) {
    return false;
  }
  name.assign(data.substr(0, nul));
  data.remove_prefix(nul + 1);
  size_t nl = data.find('\n');
  if (nl == std::string_view::npos) {
    return false;
  }
  std::string counts(data.substr(0, nl));
  data.remove_prefix(nl + 1);
  long entry_count = 0;
  long subtrees = 0;
  if (std::sscanf(counts.c_str(), "%ld %ld", &entry_count, &subtrees) != 2 || subtrees < 0) {
    return false;
  }
  node.valid = entry_count >= 0;
  if (node.valid) {
    if (data.size() < k_oid_size) {
      return false;
    }
    std::memcpy(node.oid.data(), data.data(), k_oid_size);
    data.remove_prefix(k_oid_size);
  }
  for (long i = 0; i < subtrees; ++i) {
    auto child = std::make_unique<CacheTreeNode>();
    std::string child_name;
    if (!parse_tree_node(data, *child, child_name)) {
      return false;
    }
    node.children.emplace(std::move(child_name), std::move(child));
  }
  return true;
}

} // namespace

std::optional<RawOid> read_index_root_tree(const std::filesystem::path& path) {
  std::string data;
  try {
    data = util::read_file(path, 1u << 30);
  } catch (...) {
    return std::nullopt;
  }
  if (data.size() < 12 + k_oid_size || data.compare(0, 4, "DIRC") != 0) {
    return std::nullopt;
  }
  std::string_view body(data.data(), data.size() - k_oid_size);
  Reader r(body);
  r.seek(4);
  uint32_t version = r.u32();
  uint32_t count = r.u32();
  if (version < 2 || version > 4) {
    return std::nullopt;
  }
  for (uint32_t i = 0; i < count; ++i) {
    size_t start = r.at();
    if (!r.has(k_stat_size + k_oid_size + 2)) {
      return std::nullopt;
    }
    r.seek(start + k_stat_size + k_oid_size);
    uint16_t flags = r.u16();
    if (flags & k_flag_extended) {
      if (!r.has(2)) {
        return std::nullopt;
      }
      r.u16();
    }
    if (version == 4) {
      uint64_t strip = 0;
      if (!varint(r, strip)) {
        return std::nullopt;
      }
    }
    const void* nul = std::memchr(r.ptr(), 0, body.size() - r.at());
    if (!nul) {
      return std::nullopt;
    }
    size_t after = static_cast<size_t>(static_cast<const char*>(nul) - body.data()) + 1;
    if (version != 4) {
      size_t len = after - 1 - start;
      after = start + ((len + 8) & ~static_cast<size_t>(7));
      if (after > body.size()) {
        return std::nullopt;
      }
    }
    r.seek(after);
  }
  while (r.has(8)) {
    std::string sig(r.ptr(), 4);
    r.seek(r.at() + 4);
    uint32_t size = r.u32();
    if (!r.has(size)) {
      return std::nullopt;
    }
    if (sig == "link" || sig == "sdir") {
      return std::nullopt;
    }
    if (sig == "TREE") {
      // Root record: "\0<entry_count> <subtrees>\n<oid>".
      std::string_view ext = r.rest().substr(0, size);
      size_t nl = ext.find('\n');
      if (ext.empty() || ext[0] != '\0' || nl == std::string_view::npos || ext[1] == '-' ||
          ext.size() < nl + 1 + k_oid_size) {
        return std::nullopt;
      }
      RawOid oid;
      std::memcpy(oid.data(), ext.data() + nl + 1, k_oid_size);
      return oid;
    }
    r.seek(r.at() + size);
  }
  return std::nullopt;
}

std::optional<IndexFile> read_index_file(const std::filesystem::path& path) {
  std::string data;
  try {
    data = util::read_file(path, 1u << 30);
  } catch (...) {
    return std::nullopt;
  }
  if (data.size() < 12 + k_oid_size || data.compare(0, 4, "DIRC") != 0) {
    return std::nullopt;
  }
  std::string_view body(data.data(), data.size() - k_oid_size); // without the checksum
  Reader r(body);
  r.seek(4);
  IndexFile out;
  out.version = r.u32();
  uint32_t count = r.u32();
  if (out.version < 2 || out.version > 4) {
    return std::nullopt;
  }
  out.entries.reserve(count);
  std::string previous;
  for (uint32_t i = 0; i < count; ++i) {
    size_t start = r.at();
    if (!r.has(k_stat_size + k_oid_size + 2)) {
      return std::nullopt;
    }
    IndexFileEntry e;
    e.ctime_s = r.u32();
    e.ctime_ns = r.u32();
    e.mtime_s = r.u32();
    e.mtime_ns = r.u32();
    r.seek(start + 20);
    e.ino = r.u32();
    e.mode = r.u32();
    r.seek(start + 36);
    e.size = r.u32();
    std::memcpy(e.oid.data(), r.ptr(), k_oid_size);
    r.seek(start + k_stat_size + k_oid_size);
    uint16_t flags = r.u16();
    e.stage = static_cast<uint8_t>((flags >> 12) & 3);
    if (flags & k_flag_extended) {
      if (out.version < 3 || !r.has(2)) {
        return std::nullopt;
      }
      e.intent_to_add = (r.u16() & k_ext_intent_to_add) != 0;
    }
    if (out.version == 4) {
      uint64_t strip = 0;
      if (!varint(r, strip) || strip > previous.size()) {
        return std::nullopt;
      }
      std::string_view rest = r.rest();
      size_t nul = rest.find('\0');
      if (nul == std::string_view::npos) {
        return std::nullopt;
      }
      e.path = previous.substr(0, previous.size() - strip);
      e.path.append(rest.substr(0, nul));
      r.seek(r.at() + nul + 1);
      previous = e.path;
    } else {
      std::string_view rest = r.rest();
      size_t nul = rest.find('\0');
      if (nul == std::string_view::npos) {
        return std::nullopt;
      }
      e.path.assign(rest.substr(0, nul));
      // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
      size_t len = (r.at() - start) + nul;
      size_t padded = (len + 8) & ~static_cast<size_t>(7);
      if (start + padded > body.size()) {
        return std::nullopt;
      }
      r.seek(start + padded);
    }
    if ((e.mode & 0170000) == 0040000) {
      return std::nullopt; // sparse-index directory entry
    }
    out.entries.push_back(std::move(e));
  }
  while (r.has(8)) {
    std::string sig(r.ptr(), 4);
    r.seek(r.at() + 4);
    uint32_t size = r.u32();
    if (!r.has(size)) {
      return std::nullopt;
    }
    std::string_view ext = r.rest().substr(0, size);
    if (sig == "TREE") {
      auto root = std::make_unique<CacheTreeNode>();
      std::string name;
      if (!ext.empty() && parse_tree_node(ext, *root, name) && name.empty()) {
        out.cache_tree = std::move(root);
      }
    } else if (sig == "link" || sig == "sdir") {
      return std::nullopt; // split or sparse index: let libgit2 handle (or refuse) it
    } else if (sig[0] < 'A' || sig[0] > 'Z') {
      return std::nullopt; // a required extension this reader does not know
    }
    r.seek(r.at() + size);
  }
  return out;
}

} // namespace dsm::git
