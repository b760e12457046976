// Small text helpers shared by every layer's human output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsm::util {

// "224 B", "62.6 KiB", "1.0 GiB": binary units, one decimal past bytes.
std::string human_size(uint64_t bytes);

// A number for people: "%.6g", and "nan", "inf", "-inf" as NumPy prints them.
std::string short_number(double v);

// The candidates most similar to a mistyped `word`, as git's help.c suggests
// ("The most similar command is"): those at the smallest edit distance, when
// it is small for the word's length (at most max(2, length / 3)), or those
// `word` is a prefix of. Empty when nothing is close. In the candidates'
// order.
std::vector<std::string> most_similar(const std::string& word, const std::vector<std::string>& candidates);

} // namespace dsm::util
