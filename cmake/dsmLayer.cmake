# dsm_add_layer(NAME [PUBLIC deps...] [PRIVATE deps...])
#
# One static library per folder of src/ (docs/ARCHITECTURE.md). Each layer
# gets an include root of its own in the build tree, holding one symlink
# named after the layer (build/layers/repo/repo -> src/repo), so
# `#include "repo/manifest.hpp"` resolves only in targets that link
# dsm_repo: a file that includes a layer it does not depend on fails to
# build, which is how the arrows in ARCHITECTURE.md are enforced.
# (A path with ".." would get around this; scripts/check_layers.sh, run by
# ctest, refuses one.)
function(dsm_add_layer name)
  cmake_parse_arguments(L "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(dsm_${name} STATIC ${sources})
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${name} SYMBOLIC)
  target_include_directories(dsm_${name} PUBLIC $<BUILD_INTERFACE:${root}>)
  target_link_libraries(dsm_${name} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE})
endfunction()
