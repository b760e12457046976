#include "commands/commands.hpp"
#include "commands/context.hpp"

#include "dsm/error.hpp"
#include "dsm/repository.hpp"

namespace dsm {

Context::Context() = default;
Context::~Context() = default;

void prepare_context(Context& /*ctx*/, Needs needs) {
  if (needs == Needs::repo) {
    // Filled in with the repository layer (issue #3).
    throw Error("this command needs a dsm repository, which is not implemented yet");
  }
}

} // namespace dsm
