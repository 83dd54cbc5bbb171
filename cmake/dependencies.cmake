# Every third-party dependency, found the way it was seen to work on Debian 12
# (see ../shared/build-notes.md). scripts/setup.sh installs all of them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(DPDK REQUIRED IMPORTED_TARGET libdpdk)
# libdpdk.pc appends -march=corei7 after our flags; drop it so ours wins.
get_target_property(_dpdk_opts PkgConfig::DPDK INTERFACE_COMPILE_OPTIONS)
if(_dpdk_opts)
  list(FILTER _dpdk_opts EXCLUDE REGEX "^-march=")
  set_target_properties(PkgConfig::DPDK PROPERTIES INTERFACE_COMPILE_OPTIONS "${_dpdk_opts}")
endif()

pkg_check_modules(SRTP2 REQUIRED IMPORTED_TARGET libsrtp2)
pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus)
pkg_check_modules(SPEEXDSP REQUIRED IMPORTED_TARGET speexdsp)

find_path(IPSEC_MB_INCLUDE_DIR intel-ipsec-mb.h REQUIRED)
find_library(IPSEC_MB_LIBRARY IPSec_MB REQUIRED)
add_library(ipsec_mb::ipsec_mb UNKNOWN IMPORTED)
set_target_properties(ipsec_mb::ipsec_mb PROPERTIES
  IMPORTED_LOCATION "${IPSEC_MB_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${IPSEC_MB_INCLUDE_DIR}")

find_package(Protobuf REQUIRED)   # before gRPC: gRPC's config expects it
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
# civetweb's CMake package names /usr/bin/civetweb, which libcivetweb-dev does not
# ship: take the library and header directly.
find_path(CIVETWEB_INCLUDE_DIR civetweb.h REQUIRED)
find_library(CIVETWEB_LIBRARY civetweb REQUIRED)
add_library(civetweb::civetweb UNKNOWN IMPORTED)
set_target_properties(civetweb::civetweb PROPERTIES
  IMPORTED_LOCATION "${CIVETWEB_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CIVETWEB_INCLUDE_DIR}")
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
