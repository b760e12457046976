# Everything an installed dsm needs besides the binary and the C++ API
# (cmake/dsmInstall.cmake), and the Debian package (docs/install.md):
#   - man pages (dsm.1, dsm-COMMAND.1) and bash/zsh completion, generated at
#     build time by packaging/gen_cli_docs.py from the help the built binary
#     prints and the command table in src/commands/commands.cpp;
#   - an `uninstall` target that removes what `cmake --install` installed;
#   - CPack settings for `cpack -G DEB`.
# Included from CMakeLists.txt after the dsm target and dsmInstall.cmake.
include(GNUInstallDirs)

option(DSM_MAN_COMPLETION "Generate and install man pages and shell completion (needs python3)" ON)
set(DSM_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE STRING "Where bash completion is installed (relative to the prefix)")
# Debian's zsh has vendor-completions in its fpath; other systems may want
# share/zsh/site-functions.
set(DSM_ZSH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions"
    CACHE STRING "Where zsh completion is installed (relative to the prefix)")

if(DSM_MAN_COMPLETION)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(DSM_CLI_DOCS ${CMAKE_BINARY_DIR}/cli-docs)
  # One stamp for the whole set: the list of pages follows the command table,
  # so it is not known when CMake configures. Re-run whenever the binary, the
  # table or the generator changes.
  add_custom_command(
    OUTPUT ${DSM_CLI_DOCS}/stamp
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/packaging/gen_cli_docs.py $<TARGET_FILE:dsm>
            ${CMAKE_SOURCE_DIR}/src/commands/commands.cpp ${DSM_CLI_DOCS}
    COMMAND ${CMAKE_COMMAND} -E touch ${DSM_CLI_DOCS}/stamp
    DEPENDS dsm ${CMAKE_SOURCE_DIR}/packaging/gen_cli_docs.py ${CMAKE_SOURCE_DIR}/src/commands/commands.cpp
    COMMENT "Generating man pages and shell completion from 'dsm --help'"
    VERBATIM)
  add_custom_target(dsm_cli_docs ALL DEPENDS ${DSM_CLI_DOCS}/stamp)
  install(DIRECTORY ${DSM_CLI_DOCS}/man/man1 DESTINATION ${CMAKE_INSTALL_MANDIR} COMPONENT cli
          FILES_MATCHING PATTERN "*.1")
  install(FILES ${DSM_CLI_DOCS}/completion/bash/dsm DESTINATION ${DSM_BASH_COMPLETION_DIR} COMPONENT cli)
  install(FILES ${DSM_CLI_DOCS}/completion/zsh/_dsm DESTINATION ${DSM_ZSH_COMPLETION_DIR} COMPONENT cli)
endif()

# `cmake --build BUILD --target uninstall`: removes every file listed in
# BUILD/install_manifest.txt (written by the last `cmake --install BUILD`).
add_custom_target(uninstall
  COMMAND ${CMAKE_COMMAND} -DMANIFEST=${CMAKE_BINARY_DIR}/install_manifest.txt
          -P ${CMAKE_SOURCE_DIR}/cmake/dsmUninstall.cmake
  COMMENT "Removing the files 'cmake --install' installed"
  VERBATIM)

# ---- Debian package: cpack -G DEB (run in the build directory, or
# cpack -G DEB --config BUILD/CPackConfig.cmake -B OUTDIR).
# One package, dsm, holding every install() component: the binary, man pages,
# completion (component cli) and the C++ API (headers, static libraries, CMake
# config). Hook for more content (e.g. the Python package): install() it with
# COMPONENT python and append its Debian dependencies to DSM_DEB_DEPENDS
# before this file is included (or set CPACK_DEBIAN_PACKAGE_DEPENDS later, in
# the list form "a, b"); it then lands in the same .deb.
set(CPACK_PACKAGE_NAME dsm)
set(CPACK_PACKAGE_VENDOR "dsm developers")
set(CPACK_PACKAGE_CONTACT "dsm developers <dsm@localhost>" CACHE STRING "Maintainer of the .deb")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "dataset repository manager for NumPy arrays inside git work trees")
set(CPACK_PACKAGE_DESCRIPTION "Keeps .npy/.npz payloads out of git, under timestamped names, with metadata
sidecars and a sha256sum-compatible manifest; push/pull to directories and S3.
Includes the C++ API (headers, static libraries, CMake config for find_package(dsm)).")
set(CPACK_RESOURCE_FILE_README ${CMAKE_SOURCE_DIR}/README.md)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Run-time libraries of the binary, found by dpkg-shlibdeps (libgit2,
# libssl, libdeflate, libisal, libyaml-cpp, ...), plus git, which dsm's hook
# and users run, plus libcurl, which dpkg-shlibdeps cannot see: the S3
# remote loads libcurl.so.4 when it is first used (src/remote/curl_lib.hpp;
# 7.75 for CURLOPT_AWS_SIGV4).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
list(APPEND DSM_DEB_DEPENDS "git" "libcurl4 (>= 7.75.0)")
list(JOIN DSM_DEB_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
# What find_package(dsm) needs to link the static libraries (dsmConfig.cmake's
# find_dependency calls); only for C++ users, so not a hard dependency.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, pkg-config, libgit2-dev, libyaml-cpp-dev, nlohmann-json3-dev, \
libssl-dev, libdeflate-dev, libisal-dev, zlib1g-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/" "/\\\\.git/" "__pycache__")
include(CPack)
