// How should dsm read a file it hashes? CPU seconds of read()+SHA-256 by
// buffer size, against mmap windows. Figures are CPU time, not wall time, so
// they stay meaningful on a busy machine. Used for the analysis in
// docs/benchmarks.md; not part of the build.
//
//   g++ -O2 -o /tmp/hash_io bench/hash_io.cpp -lcrypto
//   cat FILE >/dev/null; /tmp/hash_io FILE 65536     # read() in 64 KiB
//   /tmp/hash_io FILE -8388608                        # mmap, 8 MiB windows
//   HASH_IO_MAP=fault /tmp/hash_io FILE -8388608      # without MAP_POPULATE
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

double cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: hash_io FILE CHUNK (negative: mmap windows of -CHUNK bytes)\n");
    return 2;
  }
  const long chunk = std::atol(argv[2]);
  const int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || chunk == 0) {
    std::perror(argv[1]);
    return 2;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  const double t0 = cpu_seconds();
  if (chunk > 0) {
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<unsigned char> buf(static_cast<size_t>(chunk));
    ssize_t n = 0;
    while ((n = read(fd, buf.data(), buf.size())) > 0) {
      EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    }
  } else {
    const off_t window = -chunk;
    for (off_t off = 0; off < st.st_size; off += window) {
      const size_t len = static_cast<size_t>(std::min<off_t>(window, st.st_size - off));
      // HASH_IO_MAP=fault: no MAP_POPULATE (page faults, with the kernel's
      // fault-around); =populate_read: MADV_POPULATE_READ after mapping.
      const char* how = std::getenv("HASH_IO_MAP");
      const std::string mode = how ? how : "populate";
      int flags = MAP_SHARED | (mode == "populate" ? MAP_POPULATE : 0);
      void* p = mmap(nullptr, len, PROT_READ, flags, fd, off);
      if (p == MAP_FAILED) {
        std::perror("mmap");
        return 2;
      }
      madvise(p, len, MADV_SEQUENTIAL);
      if (mode == "populate_read") {
        madvise(p, len, 22 /* MADV_POPULATE_READ */);
      }
      EVP_DigestUpdate(ctx, p, len);
      munmap(p, len);
    }
  }
  unsigned char digest[32];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  const double t = cpu_seconds() - t0;
  std::printf("%s %ld: %.3f CPU s, %.2f GB per CPU second\n", chunk > 0 ? "read" : "mmap", chunk > 0 ? chunk : -chunk,
              t, static_cast<double>(st.st_size) / t / 1e9);
  EVP_MD_CTX_free(ctx);
  return 0;
}
