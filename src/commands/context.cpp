#include "commands/commands.hpp"
#include "commands/context.hpp"

#include "dsm/error.hpp"
#include "repo/repository.hpp"

namespace dsm {

Context::Context() = default;
Context::~Context() = default;

void prepare_context(Context& ctx, Needs needs) {
  if (needs == Needs::repo) {
    ctx.repo = Repository::open(ctx.work_dir);
  }
}

} // namespace dsm
