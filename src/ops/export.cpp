#include "ops/export.hpp"

#include "format/deflate.hpp"
#include "format/zip_writer.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "dsm/error.hpp"
#include "util/progress.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace dsm {

namespace {

void stream_member(const ExportSource& source, const std::function<void(const uint8_t*, size_t)>& sink) {
  util::Fd fd = util::open_read(source.payload);
  std::vector<zip::Entry> entries = zip::read_entries(fd.get(), source.payload);
  const zip::Entry* e = nullptr;
  for (const zip::Entry& candidate : entries) {
    if (candidate.name == source.member) {
      e = &candidate;
    }
  }
  if (e == nullptr) {
    throw Error(quote(source.payload.string()) + ": no member " + quote(source.member), k_exit_problems);
  }
  if (e->method != zip::Method::stored && e->method != zip::Method::deflated) {
    throw Error(quote(source.payload.string()) + ": member " + quote(e->name) + " uses an unsupported method");
  }
  uint32_t crc = 0;
  uint64_t produced = 0;
  auto out = [&](const uint8_t* d, size_t n) {
    crc = static_cast<uint32_t>(libdeflate_crc32(crc, d, n));
    produced += n;
    if (produced > e->size) {
      throw Error(quote(source.payload.string()) + ": member " + quote(e->name) + " is larger than recorded",
                  k_exit_problems);
    }
    sink(d, n);
  };
  std::unique_ptr<deflate::Inflater> inflater;
  if (e->method == zip::Method::deflated) {
    inflater = std::make_unique<deflate::Inflater>(out);
  }
  std::vector<uint8_t> buf(4u << 20);
  uint64_t off = e->data_offset;
  uint64_t left = e->compressed_size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
    ssize_t n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw Error("cannot read " + quote(source.payload.string()) + ": " +
                  (n == 0 ? std::string("unexpected end of file") : util::errno_message(errno)));
    }
    try {
      if (inflater) {
        inflater->write(buf.data(), static_cast<size_t>(n));
      } else {
        out(buf.data(), static_cast<size_t>(n));
      }
    } catch (const Error& err) {
      throw Error(quote(source.payload.string()) + ": member " + quote(e->name) + ": " + err.what(),
                  k_exit_problems);
    }
    off += static_cast<uint64_t>(n);
    left -= static_cast<uint64_t>(n);
  }
  if (inflater) {
    try {
      inflater->finish();
    } catch (const Error& err) {
      throw Error(quote(source.payload.string()) + ": member " + quote(e->name) + ": " + err.what(),
                  k_exit_problems);
    }
  }
  if (produced != e->size || crc != e->crc32) {
    throw Error(quote(source.payload.string()) + ": member " + quote(e->name) + " fails its CRC-32 check",
                k_exit_problems);
  }
}

void stream_file(const fs::path& path, const std::function<void(const uint8_t*, size_t)>& sink) {
  util::Fd fd = util::open_read(path);
  std::vector<uint8_t> buf(4u << 20);
  for (;;) {
    size_t n = util::read_some(fd.get(), buf.data(), buf.size(), path);
    if (n == 0) {
      break;
    }
    sink(buf.data(), n);
  }
}

} // namespace

void stream_original(const ExportSource& source, const std::function<void(const uint8_t*, size_t)>& sink) {
  switch (source.kind) {
  case ExportSource::Kind::npy:
    stream_file(source.payload, sink);
    return;
  case ExportSource::Kind::npz_member:
    stream_member(source, sink);
    return;
  case ExportSource::Kind::chunks:
    try {
      reassemble_chunks(source.payload, source.chunks, sink);
    } catch (const Error& e) {
      // A chunk that does not read back is a problem found, not a usage error.
      throw Error(e.what(), k_exit_problems);
    }
    return;
  }
}

ExportResult export_original(const ExportSource& source, const fs::path& out, Overwrite overwrite,
                             util::Progress* progress) {
  std::error_code ec;
  if (overwrite == Overwrite::no && fs::exists(fs::symlink_status(out, ec))) {
    throw Error("refusing to overwrite " + quote(out.string()) + " (use --force)");
  }
  if (fs::is_directory(out, ec)) {
    throw Error("cannot export to " + quote(out.string()) + ": is a directory");
  }
  util::AtomicFile file(out, 0644);
  util::Sha256 sha;
  ExportResult r;
  if (progress) {
    progress->set_total(1, source.original_size);
  }
  stream_original(source, [&](const uint8_t* d, size_t n) {
    sha.update(d, n);
    r.size += n;
    file.write(d, n);
    if (progress) {
      progress->add_bytes(static_cast<int64_t>(n));
    }
  });
  r.sha256 = sha.hex_digest();
  if (r.size != source.original_size || r.sha256 != source.original_sha256) {
    throw Error("export of " + quote(source.payload.string()) + " does not match the original that was added (" +
                  std::to_string(r.size) + " bytes, sha256 " + r.sha256 + "; expected " +
                  std::to_string(source.original_size) + " bytes, sha256 " + source.original_sha256 + ")",
                k_exit_problems);
  }
  file.commit(overwrite == Overwrite::yes ? util::AtomicFile::Replace::yes : util::AtomicFile::Replace::no);
  return r;
}

void check_export_target(const Repository& repo, const fs::path& out) {
  // Resolved as the kernel would (weakly_canonical follows symlinks of the
  // parts that exist): a symlink out of the data dir into it is caught too.
  std::error_code ec;
  fs::path real = fs::weakly_canonical(out, ec);
  if (ec) {
    real = out;
  }
  auto inside = [&](const fs::path& dir) {
    std::error_code ec2;
    fs::path d = fs::weakly_canonical(dir, ec2);
    if (ec2) {
      d = dir;
    }
    fs::path rel = real.lexically_relative(d);
    return !rel.empty() && *rel.begin() != "..";
  };
  if (inside(repo.data_dir()) || inside(repo.root() / k_dsm_dir)) {
    throw Error("refusing to export to " + quote(out.string()) + ": it is inside " +
                (inside(repo.data_dir()) ? "the data directory" : std::string("the .dsm directory")) +
                ", where stored versions and dsm's own files live; export elsewhere (or 'dsm add' the result)");
  }
}

ExportSource export_source_for(const Sidecar& sidecar, const fs::path& payload) {
  ExportSource src;
  src.payload = payload;
  if (sidecar.format == "chunks") {
    if (!sidecar.original || sidecar.original->header_hex.empty()) {
      throw Error(quote(Repository::sidecar_path(payload).string()) + ": chunked version without 'original.header'");
    }
    src.kind = ExportSource::Kind::chunks;
    src.original_size = sidecar.original->size;
    src.original_sha256 = sidecar.original->sha256;
    const std::string& hex = sidecar.original->header_hex;
    if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      throw Error(quote(Repository::sidecar_path(payload).string()) + ": 'original.header' is not hex");
    }
    for (size_t i = 0; i < hex.size(); i += 2) {
      src.chunks.original_header.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    src.chunks.axis = static_cast<unsigned>(sidecar.chunk_axis);
    src.chunks.rows = sidecar.npy && sidecar.chunk_axis < sidecar.npy->shape.size() ? sidecar.npy->shape[sidecar.chunk_axis] : 0;
    for (const auto& c : sidecar.chunks) {
      src.chunks.chunks.push_back({c.file, c.row_begin, c.row_end, c.size, c.sha256});
    }
    return src;
  }
  if (sidecar.format == "npz") {
    if (!sidecar.original || sidecar.members.size() != 1) {
      throw Error(quote(payload.string()) + " is an .npz that was added as such, not a compressed .npy; "
                  "there is no original .npy to export (use the file itself)");
    }
    src.kind = ExportSource::Kind::npz_member;
    src.member = sidecar.members[0].name + ".npy";
    src.original_size = sidecar.original->size;
    src.original_sha256 = sidecar.original->sha256;
    return src;
  }
  src.kind = ExportSource::Kind::npy;
  src.original_size = sidecar.size;
  src.original_sha256 = sidecar.sha256;
  return src;
}

} // namespace dsm
