#include "repo/manifest.hpp"

#include "dsm/error.hpp"
#include "util/sha256.hpp"

#include <algorithm>

namespace dsm {

std::string manifest_encode_path(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\n') {
      out += "%0A";
    } else if (c == '\r') {
      out += "%0D";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> manifest_decode_path(const std::string& encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out += encoded[i];
      continue;
    }
    if (i + 2 >= encoded.size()) {
      return std::nullopt;
    }
    std::string esc = encoded.substr(i + 1, 2);
    if (esc == "25") {
      out += '%';
    } else if (esc == "0A" || esc == "0a") {
      out += '\n';
    } else if (esc == "0D" || esc == "0d") {
      out += '\r';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

bool manifest_path_ok(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

Manifest Manifest::parse(const std::string& text, const std::string& file) {
  Manifest m;
  size_t line_no = 0;
  size_t pos = 0;
  std::string prev_encoded;
  auto fail = [&](const std::string& what) -> void {
    throw Error(quote(file) + ":" + std::to_string(line_no) + ": " + what);
  };
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      fail("missing newline at end of file");
    }
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') {
      fail("CR LF line ending (the manifest uses LF only)");
    }
    size_t sep = line.find("  ");
    if (sep == std::string::npos) {
      size_t sp = line.find(' ');
      if (line.empty()) {
        fail("empty line");
      }
      fail(sp == std::string::npos ? "expected '<sha256>  <path>'" : "expected two spaces between hash and path");
    }
    std::string hash = line.substr(0, sep);
    std::string encoded = line.substr(sep + 2);
    if (encoded.find('\r') != std::string::npos) {
      // A raw CR would be rewritten as %0D on the next save: not canonical,
      // and sha256sum would read a different name (found by fuzz_manifest).
      fail("raw CR in path (the manifest writes it as %0D)");
    }
    if (hash.size() != 64) {
      fail("hash has " + std::to_string(hash.size()) + " characters, expected 64");
    }
    if (!util::is_sha256_hex(hash)) {
      fail("hash is not 64 lowercase hex digits");
    }
    std::optional<std::string> path = manifest_decode_path(encoded);
    if (!path) {
      fail("malformed percent-escape in path '" + encoded + "'");
    }
    if (!manifest_path_ok(*path)) {
      fail("invalid path '" + encoded + "' (must be relative, without empty, '.' or '..' segments)");
    }
    if (m.m_entries.count(*path)) {
      fail("duplicate entry for '" + encoded + "'");
    }
    if (!prev_encoded.empty() && encoded < prev_encoded) {
      fail("entries are not sorted ('" + encoded + "' after '" + prev_encoded + "')");
    }
    prev_encoded = encoded;
    m.m_entries.emplace(std::move(*path), std::move(hash));
  }
  return m;
}

std::string Manifest::serialize() const {
  std::string out;
  out.reserve(m_entries.size() * 100);
  write_with(nullptr, [&out](std::string_view piece) { out += piece; });
  return out;
}

void Manifest::write_with(const std::function<bool(Line&)>& more,
                          const std::function<void(std::string_view)>& out) const {
  constexpr size_t k_piece = 64 << 10;
  std::string buf;
  buf.reserve(k_piece + 4096);
  auto line = [&](std::string_view hash, std::string_view encoded) {
    buf += hash;
    buf += "  ";
    buf += encoded;
    buf += '\n';
    if (buf.size() >= k_piece) {
      out(buf);
      buf.clear();
    }
  };
  Line next;
  bool have = more && more(next);
  std::string next_encoded = have ? manifest_encode_path(std::string(next.path)) : std::string();
  auto advance = [&] {
    have = more(next);
    if (have) {
      if (!manifest_path_ok(std::string(next.path))) {
        throw Error("invalid manifest path " + quote(std::string(next.path)));
      }
      std::string encoded = manifest_encode_path(std::string(next.path));
      if (encoded <= next_encoded) {
        throw Error("internal error: manifest lines out of order ('" + encoded + "' after '" + next_encoded + "')");
      }
      next_encoded = std::move(encoded);
    }
  };
  if (have && !manifest_path_ok(std::string(next.path))) {
    throw Error("invalid manifest path " + quote(std::string(next.path)));
  }
  // A listed line, after the new ones that sort before it; a new line of
  // the same path replaces it.
  auto listed = [&](std::string_view encoded, std::string_view hash) {
    while (have && next_encoded <= encoded) {
      bool same = next_encoded == encoded;
      line(next.sha256, next_encoded);
      advance();
      if (same) {
        return;
      }
    }
    line(hash, encoded);
  };
  // Sorting by decoded bytes equals sorting by encoded bytes unless a path
  // holds '%', CR or LF: only then are the encoded lines sorted apart.
  bool plain = std::none_of(m_entries.begin(), m_entries.end(), [](const auto& e) {
    return e.first.find_first_of("%\r\n") != std::string::npos;
  });
  if (plain) {
    for (const auto& [path, hash] : m_entries) {
      listed(path, hash);
    }
  } else {
    std::vector<std::pair<std::string, const std::string*>> lines;
    lines.reserve(m_entries.size());
    for (const auto& [path, hash] : m_entries) {
      lines.emplace_back(manifest_encode_path(path), &hash);
    }
    std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [encoded, hash] : lines) {
      listed(encoded, *hash);
    }
  }
  while (have) {
    line(next.sha256, next_encoded);
    advance();
  }
  if (!buf.empty()) {
    out(buf);
  }
}

const std::string* Manifest::find(const std::string& path) const {
  auto it = m_entries.find(path);
  return it == m_entries.end() ? nullptr : &it->second;
}

void Manifest::set(const std::string& path, const std::string& sha256) {
  if (!manifest_path_ok(path)) {
    throw Error("invalid manifest path " + quote(path));
  }
  m_entries[path] = sha256;
}

bool Manifest::erase(const std::string& path) { return m_entries.erase(path) > 0; }

std::vector<ManifestEntry> Manifest::entries() const {
  std::vector<ManifestEntry> out;
  out.reserve(m_entries.size());
  for (const auto& [p, h] : m_entries) {
    out.push_back({p, h});
  }
  return out;
}

} // namespace dsm
