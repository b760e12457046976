#pragma once

namespace dsm {
inline constexpr const char* k_version = "0.1.0";
}
