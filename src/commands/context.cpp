#include "commands/commands.hpp"
#include "commands/context.hpp"

#include "dsm/error.hpp"
#include "dsm/repository.hpp"

namespace dsm {

Context::Context() = default;
Context::~Context() = default;

void prepare_context(Context& ctx, Needs needs) {
  if (needs == Needs::repo) {
    ctx.repo = Repository::open(ctx.work_dir);
  }
}

} // namespace dsm
