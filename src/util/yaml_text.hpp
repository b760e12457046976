// Emitting YAML scalars by hand: dsm writes its YAML files (config,
// sidecars) itself so the layout is canonical, and every string that can
// come from a user goes through yaml_quote.
#pragma once

#include <string>
#include <string_view>

namespace dsm {

// A double-quoted YAML scalar with every control character, quote,
// backslash and non-UTF-8 byte escaped (\xNN), so any byte string
// round-trips through a YAML parser and fits on one line.
std::string yaml_quote(std::string_view s);

// A double as YAML writes it: .nan, .inf, -.inf, or the shortest decimal
// that reads back to the same value.
std::string yaml_double(double v);

// True when every byte sequence of s is valid UTF-8.
bool yaml_valid_utf8(std::string_view s);

// A key that may be written bare (plain scalar) rather than quoted.
bool yaml_plain_safe(std::string_view s);

} // namespace dsm
