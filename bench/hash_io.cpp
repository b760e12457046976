// How should dsm read a file it hashes? SHA-256 of one cached file by several
// read strategies, alternating in one process (so load from other processes
// hits them alike), reporting the median CPU seconds of each: CPU time, not
// wall time, stays meaningful on a busy machine. Used for the analysis in
// docs/benchmarks.md ("How verify reads a file"); not part of the build.
// (src/util/slices.cpp makes the same comparison at run time, per process.)
//
//   g++ -O2 -std=c++20 -o /tmp/hash_io bench/hash_io.cpp -lcrypto
//   cat FILE >/dev/null
//   /tmp/hash_io FILE 5 pread:65536 pread:262144 mmap_populate:8388608 mmap:8388608
//
// Strategies (SIZE: the buffer, or the mapped window):
//   pread:SIZE           pread() into one buffer of SIZE bytes
//   mmap_populate:SIZE   windows mapped with MAP_POPULATE + MADV_SEQUENTIAL
//                        (what dsm's mapped way does)
//   mmap:SIZE            windows mapped without MAP_POPULATE (page faults)
//   mmap_seq:SIZE        the same with MADV_SEQUENTIAL
//   populate_read:SIZE   mapped, then MADV_POPULATE_READ
// Mapped windows are hashed in 256 KiB slices, as dsm does.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <map>
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

constexpr size_t k_slice = 256u << 10;

double hash_once(const char* file, const std::string& mode, size_t size) {
  const int fd = open(file, O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::perror(file);
    std::exit(2);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  const double t0 = cpu_seconds();
  if (mode == "pread") {
    std::vector<unsigned char> buf(size);
    off_t off = 0;
    ssize_t n = 0;
    while ((n = pread(fd, buf.data(), buf.size(), off)) > 0) {
      EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
      off += n;
    }
  } else {
    for (off_t off = 0; off < st.st_size; off += static_cast<off_t>(size)) {
      const size_t len = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(size), st.st_size - off));
      const int flags = MAP_SHARED | (mode == "mmap_populate" ? MAP_POPULATE : 0);
      void* p = mmap(nullptr, len, PROT_READ, flags, fd, off);
      if (p == MAP_FAILED) {
        std::perror("mmap");
        std::exit(2);
      }
      if (mode == "mmap_populate" || mode == "mmap_seq") {
        madvise(p, len, MADV_SEQUENTIAL);
      }
      if (mode == "populate_read") {
        madvise(p, len, 22 /* MADV_POPULATE_READ */);
      }
      for (size_t at = 0; at < len; at += k_slice) {
        EVP_DigestUpdate(ctx, static_cast<const char*>(p) + at, std::min(k_slice, len - at));
      }
      munmap(p, len);
    }
  }
  unsigned char digest[32];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  const double t = cpu_seconds() - t0;
  EVP_MD_CTX_free(ctx);
  close(fd);
  return t;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: hash_io FILE ROUNDS STRATEGY:SIZE...\n");
    return 2;
  }
  struct stat st {};
  if (stat(argv[1], &st) != 0) {
    std::perror(argv[1]);
    return 2;
  }
  const int rounds = std::atoi(argv[2]);
  std::vector<std::pair<std::string, size_t>> ways;
  for (int i = 3; i < argc; ++i) {
    const std::string s = argv[i];
    const size_t colon = s.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "hash_io: '%s' is not STRATEGY:SIZE\n", argv[i]);
      return 2;
    }
    ways.emplace_back(s.substr(0, colon), static_cast<size_t>(std::atol(s.c_str() + colon + 1)));
  }
  std::map<std::string, std::vector<double>> cpu;
  for (int r = 0; r < rounds; ++r) {
    for (const auto& [mode, size] : ways) {
      cpu[mode + ":" + std::to_string(size)].push_back(hash_once(argv[1], mode, size));
    }
  }
  for (auto& [name, v] : cpu) {
    std::sort(v.begin(), v.end());
    const double median = v[v.size() / 2];
    std::printf("%-24s median %.3f CPU s, %.2f GB per CPU second (min %.3f)\n", name.c_str(), median,
                static_cast<double>(st.st_size) / median / 1e9, v.front());
  }
  return 0;
}
