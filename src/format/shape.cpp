#include "format/format.hpp"

namespace dsm {

std::string shape_text(const std::vector<uint64_t>& shape, ShapeStyle style) {
  std::string out = style == ShapeStyle::list ? "[" : "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    out += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  if (style == ShapeStyle::tuple && shape.size() == 1) {
    out += ",";
  }
  return out + (style == ShapeStyle::list ? "]" : ")");
}

} // namespace dsm
