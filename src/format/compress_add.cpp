#include "format/compress_add.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <unistd.h>

#include <cerrno>
#include <vector>

namespace dsm {

int parse_compress_level(const std::string& text) {
  if (text.empty() || text == "auto") {
    return deflate::k_level_auto;
  }
  int level = -1;
  if (text.size() <= 2 && text.find_first_not_of("0123456789") == std::string::npos) {
    level = std::stoi(text);
  }
  if (level < 0 || level > deflate::k_level_max) {
    throw Error("invalid compression level " + quote(text) + ": use 0 (store), 1 (fastest) to " +
                std::to_string(deflate::k_level_max) + " (smallest), or auto");
  }
  return level;
}

NpzCompressor::NpzCompressor(int fd, fs::path path, const std::string& member_name, const CompressSettings& settings)
  : m_zip(fd, std::move(path), 0, settings.layout), m_member(member_name + ".npy") {
  m_zip.begin_member(m_member);
  deflate::Options o;
  o.level = settings.level;
  o.jobs = settings.jobs;
  m_deflate = std::make_unique<deflate::ParallelDeflate>(
    o, [this](const uint8_t* data, size_t size) { m_zip.write(data, size); });
}

NpzCompressor::~NpzCompressor() = default;

void NpzCompressor::write(const uint8_t* data, size_t size) { m_deflate->write(data, size); }

NpzCompressor::Summary NpzCompressor::finish() {
  Summary s;
  s.deflate = m_deflate->finish();
  m_zip.end_member(s.deflate.stored() ? zip::Method::stored : zip::Method::deflated, s.deflate.crc32,
                   s.deflate.in_bytes);
  m_zip.finish();
  s.npz_size = m_zip.size();
  s.member = m_member;
  return s;
}

FileInfo npz_info_from(const FileInfo& npy, const NpzCompressor::Summary& summary, const fs::path& npz_path,
                       const std::string& npz_sha256) {
  FileInfo info;
  info.path = npz_path;
  info.format = Format::npz;
  info.size = summary.npz_size;
  info.sha256 = npz_sha256;
  NpzMember m;
  m.zip_name = summary.member;
  m.name = summary.member.substr(0, summary.member.size() - 4);
  m.is_npy = true;
  m.compressed = !summary.deflate.stored();
  m.member_size = summary.deflate.in_bytes;
  m.compressed_size = summary.deflate.out_bytes;
  m.crc32 = summary.deflate.crc32;
  m.npy = npy.npy;
  info.members.push_back(std::move(m));
  return info;
}


} // namespace dsm
