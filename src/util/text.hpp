// Small text helpers shared by every layer's human output.
#pragma once

#include <cstdint>
#include <string>

namespace dsm::util {

// "224 B", "62.6 KiB", "1.0 GiB": binary units, one decimal past bytes.
std::string human_size(uint64_t bytes);

// A number for people: "%.6g", and "nan", "inf", "-inf" as NumPy prints them.
std::string short_number(double v);

} // namespace dsm::util
