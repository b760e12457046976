#include "repo/naming.hpp"

#include "repo/config.hpp"
#include "dsm/error.hpp"

#include <cstdio>

namespace dsm {

namespace {

bool segment_char(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '.' || c == '_' || c == '-'));
}

std::string name_problem(const std::string& name) {
  if (name.empty()) {
    return "is empty";
  }
  if (name.front() == '/') {
    return "is absolute";
  }
  size_t start = 0;
  while (true) {
    size_t end = name.find('/', start);
    std::string seg = name.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (seg.empty()) {
      return "has an empty segment";
    }
    if (seg == "." || seg == "..") {
      return "has a '" + seg + "' segment";
    }
    for (size_t i = 0; i < seg.size(); ++i) {
      if (!segment_char(seg[i], i == 0)) {
        return "segment '" + seg + "' must match [A-Za-z0-9][A-Za-z0-9._-]*";
      }
    }
    if (start == 0 && seg == "manifest-sha256.txt") {
      return "is reserved for the manifest";
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return "";
}

bool all_digits(const std::string& s, size_t from, size_t n) {
  if (from + n > s.size()) {
    return false;
  }
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

} // namespace

bool name_ok(const std::string& name) { return name_problem(name).empty(); }

void validate_name(const std::string& name) {
  std::string problem = name_problem(name);
  if (!problem.empty()) {
    throw Error("invalid dataset name " + quote(name) + ": " + problem);
  }
}

void validate_name(const std::string& name, const Config& config) {
  validate_name(name);
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string seg = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (config.is_payload_name(seg)) {
      throw Error("invalid dataset name " + quote(name) + ": " + quote(seg) +
                  " ends in a payload extension, which the managed .gitignore ignores (drop the extension)");
    }
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
}

std::string last_segment(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

std::string format_seq(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%03llu", static_cast<unsigned long long>(seq));
  return buf;
}

std::string utc_date(std::time_t t) {
  std::tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

std::string utc_timestamp(std::time_t t) {
  std::tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string payload_stem(const Config& config, const std::string& name, const std::string& date, uint64_t seq) {
  std::string out = config.naming;
  auto put = [&out](const std::string& ph, const std::string& value) {
    out.replace(out.find(ph), ph.size(), value);
  };
  put("{name}", last_segment(name));
  put("{date}", date);
  put("{seq}", format_seq(seq));
  return out;
}

std::optional<uint64_t> match_seq(const Config& config, const std::string& name, const std::string& filename) {
  const std::string& pat = config.naming;
  std::string seg = last_segment(name);
  size_t p = 0; // position in pattern
  size_t f = 0; // position in filename
  std::optional<uint64_t> seq;
  while (p < pat.size()) {
    if (pat.compare(p, 6, "{name}") == 0) {
      if (filename.compare(f, seg.size(), seg) != 0) {
        return std::nullopt;
      }
      f += seg.size();
      p += 6;
    } else if (pat.compare(p, 6, "{date}") == 0) {
      if (!all_digits(filename, f, 8)) {
        return std::nullopt;
      }
      f += 8;
      p += 6;
    } else if (pat.compare(p, 5, "{seq}") == 0) {
      size_t start = f;
      while (f < filename.size() && filename[f] >= '0' && filename[f] <= '9') {
        ++f;
      }
      if (f - start < 3 || f - start > 18) {
        return std::nullopt;
      }
      seq = std::stoull(filename.substr(start, f - start));
      p += 5;
    } else {
      if (f >= filename.size() || filename[f] != pat[p]) {
        return std::nullopt;
      }
      ++f;
      ++p;
    }
  }
  if (f != filename.size() && filename[f] != '.') {
    return std::nullopt;
  }
  return seq;
}

} // namespace dsm
