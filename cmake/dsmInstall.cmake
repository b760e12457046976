# Installs dsm as a library other CMake projects use with
#   find_package(dsm REQUIRED)
#   target_link_libraries(app PRIVATE dsm::dsm)
# after `cmake --install <build> --prefix <prefix>`: the public headers
# (include/dsm/), the static libraries, and dsmConfig.cmake, which finds the
# same dependencies dsm was built with (see docs/api.md).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# dsm::dsm: what a user links; the layers behind it (not commands: no CLI11).
add_library(dsm_api INTERFACE)
target_link_libraries(dsm_api INTERFACE dsm_ops)
set_target_properties(dsm_api PROPERTIES EXPORT_NAME dsm)
add_library(dsm::dsm ALIAS dsm_api)

install(TARGETS dsm_api dsm_ops dsm_repo dsm_remote dsm_git dsm_format dsm_util EXPORT dsmTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/dsm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT dsmTargets NAMESPACE dsm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dsm)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/dsmConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/dsmConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dsm)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/dsmConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/dsmConfig.cmake ${CMAKE_BINARY_DIR}/dsmConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dsm)
