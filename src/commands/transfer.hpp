// What `dsm push` and `dsm pull` share on the command line: their options,
// the SyncOptions a run gets, and how it ends. The transfers themselves are
// ops/sync.cpp.
#pragma once

#include "ops/sync.hpp"

#include <string>

namespace CLI {
class App;
}

namespace dsm {

struct Context;

struct TransferCliOptions {
  SyncOptions sync;  // TARGET..., --remote, --jobs (and push's --force)
  bool json = false; // --json
};

// TARGET..., --remote NAME, --jobs N, --json. `direction` is "to" or "from"
// (the remote), for --remote's help.
void add_transfer_options(CLI::App* sub, TransferCliOptions& options, const std::string& verb,
                          const std::string& direction);

// The parsed options completed from the Context: where relative TARGETs
// start (-C), and a progress bar only on a terminal and without -q.
SyncOptions sync_options(const Context& ctx, const TransferCliOptions& options);

// The line push and pull end with ("pushed 3 payloads (1.0 MiB) to remote
// 'team' in 0.20 s; 2 already there"), or with --json one object (keys:
// store, transferred, bytes, skipped, seconds, problems, linked); then the report's
// Error, if any. `verb` is "push" or "pull". -q (ctx.quiet) drops the
// summary line; --json is output asked for and stays.
void finish_transfer(const Context& ctx, const TransferReport& report, const std::string& verb, bool json);

} // namespace dsm
