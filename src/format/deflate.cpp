#include "format/deflate.hpp"

#include "dsm/error.hpp"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

namespace dsm::deflate {

const char* engine_name(Engine engine) {
  switch (engine) {
  case Engine::stored:
    return "stored";
  case Engine::isal:
    return "ISA-L";
  case Engine::libdeflate:
    return "libdeflate";
  case Engine::zlib:
    return "zlib";
  case Engine::zlib_nearest:
    return "zlib (nearest match)";
  }
  return "?";
}

Plan plan_for_level(int level) {
  if (level < 0 || level > k_level_max) {
    throw Error("compression level must be 0 to " + std::to_string(k_level_max) + ", not " +
                std::to_string(level));
  }
  if (level == 0) {
    return {Engine::stored, 0};
  }
  if (level == 1) {
    // ISA-L's level 2 is as fast as its level 1 here and never larger;
    // level 3 is slower and no smaller (docs/compression.md).
    return {Engine::isal, 2};
  }
  return {Engine::libdeflate, level};
}

namespace {

// The sync-flush marker: an empty stored block with BFINAL clear.
constexpr uint8_t k_sync_marker[] = {0x00, 0x00, 0xff, 0xff};

// Per-thread engine state, created lazily and reused across blocks.
struct EngineState {
  std::vector<uint8_t> isal_level_buf;
  libdeflate_compressor* ld = nullptr;
  int ld_level = -1;
  z_stream zs{};
  int zs_level = -1; // -1: no stream yet
  bool zs_nearest = false;
  std::vector<uint8_t> scratch; // inflate output while scanning libdeflate blocks

  EngineState() = default;
  EngineState(const EngineState&) = delete;
  EngineState& operator=(const EngineState&) = delete;
  ~EngineState() {
    if (ld != nullptr) {
      libdeflate_free_compressor(ld);
    }
    if (zs_level >= 0) {
      deflateEnd(&zs);
    }
  }
};

size_t compress_isal(EngineState& st, const uint8_t* in, size_t n, std::vector<uint8_t>& out, int level,
                     bool last) {
  if (st.isal_level_buf.empty()) {
    st.isal_level_buf.resize(ISAL_DEF_LVL3_LARGE);
  }
  // Stored blocks cost 5 bytes per 64 KiB; headers and a final empty block
  // fit in the constant. Grown and retried on overflow all the same.
  size_t cap = n + n / 64 + 4096;
  for (int attempt = 0; attempt < 4; ++attempt, cap *= 2) {
    out.resize(cap);
    isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.next_in = const_cast<uint8_t*>(in);
    s.avail_in = static_cast<uint32_t>(n);
    s.next_out = out.data();
    s.avail_out = static_cast<uint32_t>(out.size());
    s.level = static_cast<uint32_t>(level);
    s.level_buf = st.isal_level_buf.data();
    s.level_buf_size = static_cast<uint32_t>(st.isal_level_buf.size());
    s.end_of_stream = last ? 1 : 0;
    // FULL_FLUSH: byte-aligned, no BFINAL unless end_of_stream, and no
    // reference into a previous block: exactly a pigz-style block.
    s.flush = FULL_FLUSH;
    s.gzip_flag = IGZIP_DEFLATE;
    int rc = isal_deflate_stateless(&s);
    if (rc == COMP_OK) {
      if (s.avail_in != 0) {
        throw Error("ISA-L deflate left input unconsumed");
      }
      return out.size() - s.avail_out;
    }
    if (rc != STATELESS_OVERFLOW) {
      throw Error("ISA-L deflate failed (" + std::to_string(rc) + ")");
    }
  }
  throw Error("ISA-L deflate: output does not fit");
}

// `nearest`: zlib's lazy matcher told to stop at the first match of 8 bytes
// (good_length 8, max_lazy 8, nice_length 8) over chains of up to 128, with
// memLevel 9 (a 64 Ki-entry hash, so chains hold fewer false candidates).
// In an array of few distinct 8-byte values the nearest repeat is the
// cheapest to code: a longer match farther back costs more distance bits
// than it saves. Measured on normal samples rounded to 2 decimals
// (docs/compression.md): 1% smaller than zlib 6, at 2.5x its speed.
size_t compress_zlib(EngineState& st, const uint8_t* in, size_t n, std::vector<uint8_t>& out, int level,
                     bool nearest, bool last) {
  if (st.zs_level != level || st.zs_nearest != nearest) {
    if (st.zs_level >= 0) {
      deflateEnd(&st.zs);
      st.zs_level = -1;
    }
    st.zs = z_stream{};
    if (deflateInit2(&st.zs, level, Z_DEFLATED, -15, nearest ? 9 : 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error("zlib deflateInit2 failed");
    }
    st.zs_level = level;
    st.zs_nearest = nearest;
  } else {
    deflateReset(&st.zs); // which restores the level's own search limits
  }
  if (nearest && deflateTune(&st.zs, 8, 8, 8, 128) != Z_OK) {
    throw Error("zlib deflateTune failed");
  }
  out.resize(deflateBound(&st.zs, static_cast<uLong>(n)) + 64);
  st.zs.next_in = const_cast<Bytef*>(in);
  st.zs.avail_in = static_cast<uInt>(n);
  st.zs.next_out = out.data();
  st.zs.avail_out = static_cast<uInt>(out.size());
  int rc = ::deflate(&st.zs, last ? Z_FINISH : Z_SYNC_FLUSH);
  if ((last && rc != Z_STREAM_END) || (!last && rc != Z_OK) || st.zs.avail_in != 0) {
    throw Error("zlib deflate failed (" + std::to_string(rc) + ")");
  }
  return out.size() - st.zs.avail_out;
}

// libdeflate only compresses whole buffers into complete streams: its last
// block has BFINAL set, which would end the member early. For a block that
// is not the stream's last we find that bit as zlib's gzjoin does (inflate
// with Z_BLOCK stops at each block boundary and tells how many bits of the
// last byte are unused, so the next header's first bit, BFINAL, is known),
// clear it, and byte-align with an empty stored block. The inflate pass
// doubles as a check: its output must hash to the input's CRC.
size_t finish_libdeflate_block(EngineState& st, uint8_t* buf, size_t len, uint32_t input_crc,
                               size_t input_len) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) {
    throw Error("zlib inflateInit2 failed");
  }
  struct Guard {
    z_stream* s;
    ~Guard() { inflateEnd(s); }
  } guard{&zs};
  st.scratch.resize(256u << 10);
  zs.next_in = buf;
  zs.avail_in = static_cast<uInt>(len);
  // Bit position of the current block's header (byte index, bit mask).
  size_t header_byte = 0;
  uint8_t header_mask = 1;
  bool last = (buf[0] & 1) != 0;
  uint32_t crc = static_cast<uint32_t>(libdeflate_crc32(0, nullptr, 0));
  uint64_t produced = 0;
  unsigned tail_unused = 0;
  for (;;) {
    zs.next_out = st.scratch.data();
    zs.avail_out = static_cast<uInt>(st.scratch.size());
    int rc = ::inflate(&zs, Z_BLOCK);
    size_t got = st.scratch.size() - zs.avail_out;
    crc = static_cast<uint32_t>(libdeflate_crc32(crc, st.scratch.data(), got));
    produced += got;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      // Z_STREAM_END cannot happen: Z_BLOCK stops after the final block's
      // end-of-block code, before inflate discards the padding bits.
      throw Error("libdeflate block does not inflate (" + std::to_string(rc) + ")");
    }
    if ((zs.data_type & 128) != 0) {
      unsigned unused = static_cast<unsigned>(zs.data_type & 7);
      if (last) {
        // End of the final block: `unused` bits of the last byte are padding.
        tail_unused = unused;
        break;
      }
      // The next header starts in the last used byte when it has unused
      // bits, else in the next byte.
      size_t used = len - zs.avail_in;
      if (unused != 0) {
        header_byte = used - 1;
        header_mask = static_cast<uint8_t>(0x100u >> unused);
      } else {
        header_byte = used;
        header_mask = 1;
      }
      if (header_byte >= len) {
        throw Error("libdeflate block ends without a final block");
      }
      last = (buf[header_byte] & header_mask) != 0;
    } else if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      throw Error("libdeflate block ends before its final block");
    }
  }
  if (zs.avail_in != 0 || produced != input_len || crc != input_crc) {
    throw Error("libdeflate block does not round-trip");
  }
  buf[header_byte] = static_cast<uint8_t>(buf[header_byte] & ~header_mask);
  // Bits left unused in the last byte; they are zero padding. A stored
  // block header is 3 zero bits: it fits in the padding, or takes one more
  // (zero) byte, then LEN/NLEN follow byte-aligned.
  buf[len - 1] = static_cast<uint8_t>(buf[len - 1] & (0xffu >> tail_unused));
  size_t pos = len;
  if (tail_unused < 3) {
    buf[pos++] = 0;
  }
  std::memcpy(buf + pos, k_sync_marker, sizeof(k_sync_marker));
  return pos + sizeof(k_sync_marker);
}

size_t compress_libdeflate(EngineState& st, const uint8_t* in, size_t n, std::vector<uint8_t>& out, int level,
                           bool last, uint32_t input_crc) {
  if (st.ld_level != level) {
    if (st.ld != nullptr) {
      libdeflate_free_compressor(st.ld);
    }
    st.ld = libdeflate_alloc_compressor(level);
    if (st.ld == nullptr) {
      throw Error("cannot allocate a libdeflate compressor (level " + std::to_string(level) + ")");
    }
    st.ld_level = level;
  }
  out.resize(libdeflate_deflate_compress_bound(st.ld, n) + 8);
  size_t got = libdeflate_deflate_compress(st.ld, in, n, out.data(), out.size() - 8);
  if (got == 0) {
    throw Error("libdeflate compression failed");
  }
  if (last) {
    return got;
  }
  return finish_libdeflate_block(st, out.data(), got, input_crc, n);
}

struct Block {
  std::vector<uint8_t> in;
  size_t in_len = 0;
  std::vector<uint8_t> out;
  size_t out_len = 0;
  bool last = false;
  uint32_t crc = 0;
  Plan plan;
  bool done = false;
  std::exception_ptr error;

  const uint8_t* out_data() const { return plan.engine == Engine::stored ? in.data() : out.data(); }
};

void compress_block(EngineState& st, Block& b) {
  b.crc = static_cast<uint32_t>(libdeflate_crc32(0, b.in.data(), b.in_len));
  switch (b.plan.engine) {
  case Engine::stored:
    b.out_len = b.in_len;
    return;
  case Engine::isal:
    b.out_len = compress_isal(st, b.in.data(), b.in_len, b.out, b.plan.engine_level, b.last);
    return;
  case Engine::libdeflate:
    b.out_len = compress_libdeflate(st, b.in.data(), b.in_len, b.out, b.plan.engine_level, b.last, b.crc);
    return;
  case Engine::zlib:
  case Engine::zlib_nearest:
    b.out_len = compress_zlib(st, b.in.data(), b.in_len, b.out, b.plan.engine_level,
                              b.plan.engine == Engine::zlib_nearest, b.last);
    return;
  }
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  return buf;
}

} // namespace

struct ParallelDeflate::Impl {
  Options options;
  Sink sink;
  unsigned jobs = 1;
  size_t window = 2;

  std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  std::deque<Block*> queue; // submitted, not yet picked by a worker
  bool stop = false;
  std::vector<std::thread> workers;

  std::deque<std::unique_ptr<Block>> in_flight; // submitted, not yet emitted, in order
  std::vector<std::unique_ptr<Block>> spare;
  std::unique_ptr<Block> current;
  EngineState caller_state; // the first block is compressed on the caller's thread

  bool decided = false;
  Plan plan;
  std::string reason;
  uint32_t crc = 0;
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
  bool finished = false;

  void worker_loop() {
    EngineState st;
    for (;;) {
      Block* b = nullptr;
      {
        std::unique_lock lock(mutex);
        work_cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop) {
          return;
        }
        b = queue.front();
        queue.pop_front();
      }
      std::exception_ptr error;
      try {
        compress_block(st, *b);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex);
        b->error = error;
        b->done = true;
      }
      done_cv.notify_all();
    }
  }

  std::unique_ptr<Block> new_block() {
    std::unique_ptr<Block> b;
    if (!spare.empty()) {
      b = std::move(spare.back());
      spare.pop_back();
    } else {
      b = std::make_unique<Block>();
      b->in.resize(options.block_size);
    }
    b->in_len = 0;
    b->out_len = 0;
    b->last = false;
    b->done = false;
    b->error = nullptr;
    return b;
  }

  // The first block decides the plan: the fixed level's engine (or, for
  // auto, the better of ISA-L and libdeflate 6), then the store check.
  void decide(Block& b) {
    Plan chosen;
    if (options.plan) {
      chosen = *options.plan;
      reason = std::string(engine_name(chosen.engine)) + " level " + std::to_string(chosen.engine_level) +
               " (fixed)";
      b.plan = chosen;
      compress_block(caller_state, b);
    } else if (options.level == k_level_auto) {
      // Each candidate compresses the first block; the fastest of those
      // within 1% of the smallest is kept. Copies of one block are the
      // price of measuring.
      const Plan candidates[] = {{Engine::isal, 2}, {Engine::libdeflate, 6}, {Engine::zlib_nearest, 6}};
      std::vector<Block> tried(std::size(candidates));
      size_t smallest = 0;
      for (size_t i = 0; i < tried.size(); ++i) {
        tried[i].in = b.in;
        tried[i].in_len = b.in_len;
        tried[i].last = b.last;
        tried[i].plan = candidates[i];
        compress_block(caller_state, tried[i]);
        if (tried[i].out_len < tried[smallest].out_len) {
          smallest = i;
        }
      }
      const double best = static_cast<double>(tried[smallest].out_len);
      size_t pick = 0;
      while (static_cast<double>(tried[pick].out_len) > best * 1.01) {
        ++pick;
      }
      std::swap(b.out, tried[pick].out);
      b.out_len = tried[pick].out_len;
      b.crc = tried[pick].crc;
      b.plan = chosen = candidates[pick];
      std::string sizes;
      for (size_t i = 0; i < tried.size(); ++i) {
        sizes += (i == 0 ? "" : ", ") + std::string(engine_name(candidates[i].engine)) + " " +
                 std::to_string(tried[i].out_len);
      }
      reason = std::string(engine_name(chosen.engine)) + (chosen.engine == Engine::isal ? "" : " level 6") +
               " (auto: the fastest within 1% of the smallest on the first block: " + sizes + " bytes)";
    } else {
      chosen = plan_for_level(options.level);
      reason = chosen.engine == Engine::stored ? std::string("stored (level 0)")
                                               : std::string(engine_name(chosen.engine)) + " (level " +
                                                     std::to_string(options.level) + ")";
      b.plan = chosen;
      compress_block(caller_state, b);
    }
    if (chosen.engine != Engine::stored && b.in_len == 0) {
      reason = "stored: empty input";
      chosen = {Engine::stored, 0};
    } else if (chosen.engine != Engine::stored && options.min_saving > 0) {
      double saving = 1.0 - static_cast<double>(b.out_len) / static_cast<double>(b.in_len);
      if (saving < options.min_saving) {
        reason = "stored uncompressed: deflate saves only " + percent(saving) + " on the first " +
                 std::to_string(b.in_len) + " bytes (threshold " + percent(options.min_saving) + ")";
        chosen = {Engine::stored, 0};
      }
    }
    if (chosen.engine == Engine::stored) {
      b.plan = chosen;
      b.out_len = b.in_len;
    }
    plan = chosen;
    decided = true;
    b.done = true;
  }

  void submit(std::unique_ptr<Block> b) {
    if (!decided) {
      b->done = false;
      decide(*b);
      in_flight.push_back(std::move(b));
    } else {
      b->plan = plan;
      Block* raw = b.get();
      {
        std::lock_guard lock(mutex);
        in_flight.push_back(std::move(b));
        queue.push_back(raw);
      }
      work_cv.notify_one();
    }
    while (in_flight.size() >= window) {
      emit_front();
    }
  }

  void emit_front() {
    Block* b = in_flight.front().get();
    {
      std::unique_lock lock(mutex);
      done_cv.wait(lock, [&] { return b->done; });
    }
    if (b->error) {
      std::rethrow_exception(b->error);
    }
    // Every block after the first is compressed by the plan; the stored
    // decision is only taken before anything was emitted.
    crc = static_cast<uint32_t>(crc32_combine(crc, b->crc, static_cast<z_off_t>(b->in_len)));
    in_bytes += b->in_len;
    out_bytes += b->out_len;
    if (b->out_len > 0) {
      sink(b->out_data(), b->out_len);
    }
    spare.push_back(std::move(in_flight.front()));
    in_flight.pop_front();
  }

  void shutdown() {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    work_cv.notify_all();
    for (auto& t : workers) {
      if (t.joinable()) {
        t.join();
      }
    }
    workers.clear();
  }
};

ParallelDeflate::ParallelDeflate(const Options& options, Sink sink) : m_impl(std::make_unique<Impl>()) {
  Impl& m = *m_impl;
  m.options = options;
  if (m.options.block_size == 0) {
    m.options.block_size = 1u << 20;
  }
  if (m.options.block_size > (64u << 20)) {
    throw Error("deflate block size must be at most 64 MiB");
  }
  if (!m.options.plan && m.options.level != k_level_auto) {
    plan_for_level(m.options.level); // validate early
  }
  m.sink = std::move(sink);
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  m.jobs = m.options.jobs == 0 ? hw : m.options.jobs;
  m.window = 2 * static_cast<size_t>(m.jobs);
  for (unsigned i = 0; i < m.jobs; ++i) {
    m.workers.emplace_back([&m] { m.worker_loop(); });
  }
  m.current = m.new_block();
}

ParallelDeflate::~ParallelDeflate() {
  m_impl->shutdown();
}

void ParallelDeflate::write(const void* data, size_t size) {
  Impl& m = *m_impl;
  if (m.finished) {
    throw Error("deflate stream already finished");
  }
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    // A full block is submitted only once more input arrives, so the block
    // that finish() submits is always the stream's last (BFINAL).
    if (m.current->in_len == m.options.block_size) {
      m.submit(std::move(m.current));
      m.current = m.new_block();
    }
    size_t n = std::min(size, m.options.block_size - m.current->in_len);
    std::memcpy(m.current->in.data() + m.current->in_len, p, n);
    m.current->in_len += n;
    p += n;
    size -= n;
  }
}

Result ParallelDeflate::finish() {
  Impl& m = *m_impl;
  if (m.finished) {
    throw Error("deflate stream already finished");
  }
  m.finished = true;
  m.current->last = true;
  m.submit(std::move(m.current));
  while (!m.in_flight.empty()) {
    m.emit_front();
  }
  m.shutdown();
  Result r;
  r.plan = m.plan;
  r.crc32 = m.crc;
  r.in_bytes = m.in_bytes;
  r.out_bytes = m.out_bytes;
  r.reason = m.reason;
  return r;
}

// ---------------------------------------------------------------------------

struct Inflater::Impl {
  Sink sink;
  inflate_state state;
  std::vector<uint8_t> out;
  bool done = false;
};

Inflater::Inflater(Sink sink) : m_impl(std::make_unique<Impl>()) {
  m_impl->sink = std::move(sink);
  isal_inflate_init(&m_impl->state);
  m_impl->state.crc_flag = ISAL_DEFLATE;
  m_impl->out.resize(1u << 20);
}

Inflater::~Inflater() = default;

bool Inflater::done() const {
  return m_impl->done;
}

void Inflater::write(const uint8_t* data, size_t size) {
  Impl& m = *m_impl;
  while (size > 0) {
    if (m.done) {
      throw Error("corrupt deflate stream: data after the final block");
    }
    size_t chunk = std::min<size_t>(size, 1u << 30);
    m.state.next_in = const_cast<uint8_t*>(data);
    m.state.avail_in = static_cast<uint32_t>(chunk);
    for (;;) {
      m.state.next_out = m.out.data();
      m.state.avail_out = static_cast<uint32_t>(m.out.size());
      uint32_t avail_before = m.state.avail_in;
      int rc = isal_inflate(&m.state);
      if (rc < 0) {
        throw Error("corrupt deflate stream (ISA-L error " + std::to_string(rc) + ")");
      }
      size_t got = m.out.size() - m.state.avail_out;
      if (got > 0) {
        m.sink(m.out.data(), got);
      }
      if (m.state.block_state == ISAL_BLOCK_FINISH) {
        m.done = true;
        break;
      }
      if (m.state.avail_in == 0 && got < m.out.size()) {
        break;
      }
      if (got == 0 && m.state.avail_in == avail_before) {
        // No progress with input and room to write: nothing more to do.
        break;
      }
    }
    // ISA-L reads ahead into a bit buffer: whole bytes still buffered after
    // the final block are not part of the stream either.
    if (m.done && (m.state.avail_in != 0 || m.state.read_in_length >= 8)) {
      throw Error("corrupt deflate stream: data after the final block");
    }
    data += chunk;
    size -= chunk;
  }
}

void Inflater::finish() {
  if (!m_impl->done) {
    throw Error("corrupt deflate stream: truncated");
  }
}

} // namespace dsm::deflate
