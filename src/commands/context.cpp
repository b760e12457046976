#include "commands/commands.hpp"
#include "commands/context.hpp"

#include "dsm/error.hpp"
#include "repo/repository.hpp"

namespace dsm {

Context::Context() = default;
Context::~Context() = default;

std::filesystem::path Context::from_work_dir(const std::filesystem::path& p) const {
  return (p.is_absolute() ? p : work_dir / p).lexically_normal();
}

void prepare_context(Context& ctx, Needs needs) {
  if (needs == Needs::repo) {
    ctx.repo = Repository::open(ctx.work_dir);
  }
}

} // namespace dsm
