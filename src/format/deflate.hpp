// Parallel deflate: one raw deflate stream (RFC 1951) built from independent
// blocks compressed on every core, as pigz does. Each block but the last
// ends byte-aligned with BFINAL clear (a sync/full flush), so the compressed
// blocks simply concatenate; the last block carries BFINAL. The CRC-32 of
// each block is computed beside it and combined in order with
// crc32_combine. Memory is bounded: at most 2 x jobs blocks are in flight,
// whatever the input size. Why ISA-L and libdeflate, and which level:
// docs/compression.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace dsm::deflate {

// What compresses a block.
enum class Engine {
  stored,     // no compression (the zip member is written with method 0)
  isal,       // ISA-L igzip, stateless per block with FULL_FLUSH
  libdeflate, // libdeflate, BFINAL cleared afterwards (see deflate.cpp)
  zlib,       // zlib with Z_SYNC_FLUSH: the baseline, kept for measuring
  // zlib tuned to take the nearest match of 8 bytes or more (deflateTune
  // 8/8/8/128, a 64 Ki-entry hash): on arrays of few distinct values
  // (rounded floats) it is smaller than zlib 6 at about 2.5x its speed.
  zlib_nearest,
};

const char* engine_name(Engine engine);

// User-facing levels (`dsm add --compress=LEVEL`): 0 stores, 1 is ISA-L
// (fastest), 2..12 are libdeflate at that level; auto measures the first
// block with ISA-L, libdeflate 6 and zlib_nearest and keeps the first of
// them, in that order (fastest first), within 1% of the smallest.
inline constexpr int k_level_auto = -1;
inline constexpr int k_level_max = 12;

struct Plan {
  Engine engine = Engine::isal;
  int engine_level = 2; // level passed to the engine
};

// The plan a fixed user level stands for (level in 0..k_level_max).
Plan plan_for_level(int level);

struct Options {
  int level = k_level_auto;
  // Bypass plan_for_level (benchmarks, tests). The store check still runs
  // unless min_saving is 0.
  std::optional<Plan> plan;
  unsigned jobs = 0;            // worker threads; 0: one per core
  size_t block_size = 1u << 20; // input bytes per independent block
  // Store instead of deflating when the first block shrinks by less than
  // this fraction (0 disables the check).
  double min_saving = 0.015;
};

struct Result {
  Plan plan;          // what produced the stream (Engine::stored: raw bytes)
  uint32_t crc32 = 0; // of the uncompressed bytes
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
  std::string reason; // one line: why this engine and level
  bool stored() const { return plan.engine == Engine::stored; }
};

// Feed bytes with write(), call finish() once. Compressed bytes reach the
// sink in order, on the calling thread. Exceptions from workers and from the
// sink propagate out of write()/finish(); the destructor always joins the
// workers.
class ParallelDeflate {
public:
  using Sink = std::function<void(const uint8_t* data, size_t size)>;
  ParallelDeflate(const Options& options, Sink sink);
  ~ParallelDeflate();
  ParallelDeflate(const ParallelDeflate&) = delete;
  ParallelDeflate& operator=(const ParallelDeflate&) = delete;

  void write(const void* data, size_t size);
  Result finish();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Streaming raw inflate (ISA-L), for reading members back. Output reaches the
// sink in pieces; finish() throws unless the stream ended exactly.
class Inflater {
public:
  using Sink = std::function<void(const uint8_t* data, size_t size)>;
  explicit Inflater(Sink sink);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Throws dsm::Error("corrupt deflate stream ...") on bad data. Bytes after
  // the end of the stream are an error.
  void write(const uint8_t* data, size_t size);
  // True once the final block has been decoded.
  bool done() const;
  void finish();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace dsm::deflate
