// Printing a scanned file (FileInfo) for people or as JSON; shared by
// `dsm show FILE` and `dsm show NAME[@VERSION]`.
#pragma once

#include "format/format.hpp"

#include <iosfwd>
#include <string>

namespace dsm {

enum class OutputFormat { human, json };

// Human: a compact summary (format, version, dtype, shape, order, size,
// sha256, stats; one line per .npz member). JSON: to_json(info) as one
// indented object and a newline.
void print_file_info(std::ostream& out, const FileInfo& info, OutputFormat format);

// One-line summary of an array (dtype, shape, order, stats) for listings.
std::string describe_array(const NpyInfo& npy);

} // namespace dsm
