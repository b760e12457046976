#include "repo/gitignore.hpp"

#include "dsm/error.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <system_error>

namespace dsm::gitignore {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// Trailing CR (a CRLF file) must not hide a marker.
std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

bool is_begin(std::string_view line) { return chomp(line).starts_with("# >>> dsm managed block"); }
bool is_end(std::string_view line) { return chomp(line).starts_with("# <<< dsm managed block"); }

} // namespace

std::string escape_pattern(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '!' || c == '#' || c == ' ') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string render_block(const std::string& data_dir_rel, const std::vector<std::string>& extensions) {
  std::string dir = "/" + escape_pattern(data_dir_rel);
  std::string out(k_begin);
  out += '\n';
  for (const auto& ext : extensions) {
    out += dir + "/**/*" + escape_pattern(ext) + "\n";
  }
  out += util::k_temp_prefix;
  out += "*\n";
  out += "/.dsm/local/\n";
  out += k_end;
  out += '\n';
  return out;
}

std::string render_block(const Repository& repo) {
  return render_block(repo.data_dir_relative(), repo.config().extensions);
}

BlockState check_block(std::string_view text, std::string_view block) {
  std::vector<std::string_view> lines = split_lines(text);
  std::vector<std::string_view> want = split_lines(block);
  size_t blocks = 0;
  bool intact = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_end(lines[i])) {
      return BlockState::modified; // an end without a begin before it
    }
    if (!is_begin(lines[i])) {
      continue;
    }
    ++blocks;
    size_t j = i + 1;
    while (j < lines.size() && !is_end(lines[j]) && !is_begin(lines[j])) {
      ++j;
    }
    if (j == lines.size() || is_begin(lines[j])) {
      return BlockState::modified; // a begin without its end
    }
    intact = (j - i + 1 == want.size());
    for (size_t k = 0; intact && k < want.size(); ++k) {
      intact = lines[i + k] == want[k];
    }
    i = j;
  }
  if (blocks == 0) {
    return BlockState::missing;
  }
  return blocks == 1 && intact ? BlockState::intact : BlockState::modified;
}

std::string repair_text(std::string_view text, std::string_view block) {
  std::vector<std::string_view> lines = split_lines(text);
  std::string out;
  bool placed = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_begin(lines[i])) {
      size_t j = i + 1;
      while (j < lines.size() && !is_end(lines[j]) && !is_begin(lines[j])) {
        ++j;
      }
      if (j < lines.size() && is_end(lines[j])) {
        // A whole block: the first becomes the fresh block, others vanish.
        if (!placed) {
          out += block;
          placed = true;
        }
        i = j;
        continue;
      }
      // A begin without an end: drop just the marker; the lines after it
      // may be the user's.
      continue;
    }
    if (is_end(lines[i])) {
      continue; // stray end marker
    }
    out += lines[i];
    out += '\n';
  }
  if (!placed) {
    if (!out.empty() && out.back() != '\n') {
      out += '\n';
    }
    out += block;
  }
  return out;
}

BlockState check(const Repository& repo) {
  fs::path file = repo.root() / ".gitignore";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return BlockState::missing;
  }
  return check_block(util::read_file(file, 16u << 20), render_block(repo));
}

bool ensure(const Repository& repo) {
  fs::path file = repo.root() / ".gitignore";
  std::error_code ec;
  std::string text;
  if (fs::exists(file, ec)) {
    text = util::read_file(file, 16u << 20);
  }
  std::string block = render_block(repo);
  if (check_block(text, block) == BlockState::intact) {
    return false;
  }
  std::string fixed = repair_text(text, block);
  if (fixed == text) {
    return false;
  }
  util::write_file_atomic(file, fixed, 0644);
  return true;
}

} // namespace dsm::gitignore
