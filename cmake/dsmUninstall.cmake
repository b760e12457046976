# Removes the files listed in MANIFEST (install_manifest.txt, one absolute
# path per line), then the directories dsm alone owns (include/dsm,
# lib/cmake/dsm, ...) once they are empty. Never removes a directory that
# still holds anything. Files a Debian package owns (the .deb installed with
# dpkg/apt) are left alone: `apt remove dsm` removes those. Run by the
# `uninstall` target (cmake/dsmPackaging.cmake); the environment variable
# DSM_INSTALL_MANIFEST names another manifest (a saved copy) instead.
cmake_minimum_required(VERSION 3.25)
if(DEFINED ENV{DSM_INSTALL_MANIFEST})
  set(MANIFEST "$ENV{DSM_INSTALL_MANIFEST}")
endif()
if(NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "no ${MANIFEST}: nothing was installed from this build directory (run 'cmake --install' first)")
endif()
file(STRINGS "${MANIFEST}" files)
# `cpack` rewrites install_manifest.txt with the package's paths (/usr/...):
# never delete what dpkg owns.
set(owned "")
find_program(DPKG_QUERY dpkg-query)
if(DPKG_QUERY AND files)
  execute_process(COMMAND ${DPKG_QUERY} -S ${files} OUTPUT_VARIABLE dpkg_out ERROR_QUIET)
  string(REGEX MATCHALL "[^\n]+" dpkg_lines "${dpkg_out}")
  foreach(line IN LISTS dpkg_lines)
    string(REGEX REPLACE "^[^:]+: " "" path "${line}")
    list(APPEND owned "${path}")
  endforeach()
endif()
set(dirs "")
set(removed 0)
foreach(f IN LISTS files)
  if(f IN_LIST owned)
    message(WARNING "'${f}' belongs to a Debian package: left alone (remove it with 'apt remove dsm')")
    continue()
  endif()
  if(IS_SYMLINK "${f}" OR EXISTS "${f}")
    file(REMOVE "${f}")
    if(IS_SYMLINK "${f}" OR EXISTS "${f}")
      message(FATAL_ERROR "could not remove '${f}'")
    endif()
    math(EXPR removed "${removed} + 1")
  endif()
  # parents named dsm (include/dsm/..., lib/cmake/dsm) are dsm's own
  get_filename_component(d "${f}" DIRECTORY)
  while(d MATCHES "/dsm(/|$)")
    list(APPEND dirs "${d}")
    get_filename_component(d "${d}" DIRECTORY)
  endwhile()
endforeach()
list(REMOVE_DUPLICATES dirs)
# deepest first, so a parent is empty once its children are gone
list(SORT dirs ORDER DESCENDING)
foreach(d IN LISTS dirs)
  file(GLOB left "${d}/*" "${d}/.*")
  if(IS_DIRECTORY "${d}" AND NOT left)
    file(REMOVE_RECURSE "${d}")
  endif()
endforeach()
list(LENGTH files total)
message(STATUS "uninstalled ${removed} of the ${total} files in ${MANIFEST}")
