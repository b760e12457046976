// Dataset names and payload file names.
//
// A name is one or more '/'-separated segments of [A-Za-z0-9][A-Za-z0-9._-]*.
// The payload of version SEQ of NAME lives at
//   <data_dir>/<NAME>/<naming pattern>.<npy|npz>
// where the pattern (config `naming`, default "{name}_{date}_{seq}") gets
// {name} = NAME's last segment, {date} = UTC YYYYMMDD of the add, {seq} =
// the sequence number, zero-padded to 3 digits (wider past 999).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace dsm {

struct Config;

// Throws Error (exit 2) saying what is wrong with `name`.
void validate_name(const std::string& name);
// The same, and no segment may end in one of the config's payload
// extensions: the managed .gitignore ignores payloads by extension, so a
// dataset directory or sidecar named "scores.npy..." could never be
// committed (issue #15, item 10).
void validate_name(const std::string& name, const Config& config);
bool name_ok(const std::string& name);
std::string last_segment(const std::string& name);

std::string format_seq(uint64_t seq);
std::string utc_date(std::time_t t);          // YYYYMMDD
std::string utc_timestamp(std::time_t t);     // YYYY-MM-DDTHH:MM:SSZ

// The payload file stem (no extension) for a version.
std::string payload_stem(const Config& config, const std::string& name, const std::string& date, uint64_t seq);

// The sequence number when `filename` (a payload, sidecar or any file
// starting with a payload stem followed by '.' or the end) is a version of
// `name` under `config`'s pattern; nullopt otherwise.
std::optional<uint64_t> match_seq(const Config& config, const std::string& name, const std::string& filename);

} // namespace dsm
