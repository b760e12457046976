// Measures dsm's parallel deflate per engine and level on raw files, for
// docs/compression.md. Built and run by bench/compress_engines.py:
//   compress_engines JOBS FILE...   -> one JSON object per line
#include "format/deflate.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

using namespace dsm::deflate;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: compress_engines JOBS FILE...\n");
    return 2;
  }
  unsigned jobs = static_cast<unsigned>(std::atoi(argv[1]));
  struct Case {
    Engine engine;
    int level;
  };
  const Case cases[] = {{Engine::zlib, 1},       {Engine::zlib, 6},       {Engine::zlib_nearest, 6},
                        {Engine::isal, 1},       {Engine::isal, 2},       {Engine::isal, 3},
                        {Engine::libdeflate, 1}, {Engine::libdeflate, 4}, {Engine::libdeflate, 6},
                        {Engine::libdeflate, 9}};
  for (int f = 2; f < argc; ++f) {
    std::ifstream in(argv[f], std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), {});
    for (const Case& c : cases) {
      Options o;
      o.plan = Plan{c.engine, c.level};
      o.min_saving = 0;
      o.jobs = jobs;
      uint64_t out = 0;
      auto t0 = std::chrono::steady_clock::now();
      ParallelDeflate pd(o, [&](const uint8_t*, size_t n) { out += n; });
      pd.write(data.data(), data.size());
      pd.finish();
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("{\"file\": \"%s\", \"engine\": \"%s\", \"level\": %d, \"jobs\": %u, \"ratio\": %.4f, "
                  "\"mb_s\": %.1f}\n",
                  argv[f], engine_name(c.engine), c.level, jobs, double(out) / double(data.size()),
                  double(data.size()) / s / 1e6);
      std::fflush(stdout);
    }
  }
  return 0;
}
