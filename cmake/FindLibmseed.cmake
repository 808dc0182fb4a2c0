# Finds libmseed 2.x (Debian: libmseed-dev), the MiniSEED reader behind runtime/miniseed.cpp.
#
# Defines Libmseed_FOUND, Libmseed_VERSION and the imported target Libmseed::Libmseed.
# Debian's libmseed-dev ships libmseed.h and libmseed.so but no pkg-config file; one is used
# as a hint where it exists (upstream builds install it).

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Libmseed QUIET libmseed mseed)
endif()

find_path(Libmseed_INCLUDE_DIR libmseed.h HINTS ${PC_Libmseed_INCLUDE_DIRS})
find_library(Libmseed_LIBRARY NAMES mseed libmseed HINTS ${PC_Libmseed_LIBRARY_DIRS})

if(Libmseed_INCLUDE_DIR AND EXISTS "${Libmseed_INCLUDE_DIR}/libmseed.h")
  file(STRINGS "${Libmseed_INCLUDE_DIR}/libmseed.h" _libmseed_version_line
       REGEX "^#define[ \t]+LIBMSEED_VERSION[ \t]+\"[^\"]+\"")
  string(REGEX REPLACE ".*\"([^\"]+)\".*" "\\1" Libmseed_VERSION "${_libmseed_version_line}")
  unset(_libmseed_version_line)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Libmseed
  REQUIRED_VARS Libmseed_LIBRARY Libmseed_INCLUDE_DIR
  VERSION_VAR Libmseed_VERSION
  REASON_FAILURE_MESSAGE "install Debian's libmseed-dev (libmseed 2.x)")

# Strata uses the 2.x API (ms_readmsr_r, mstl_addmsr); 3.x renamed it.
if(Libmseed_FOUND AND NOT Libmseed_VERSION VERSION_LESS 3)
  message(FATAL_ERROR "libmseed ${Libmseed_VERSION} found at ${Libmseed_INCLUDE_DIR}; Strata needs 2.x")
endif()

if(Libmseed_FOUND AND NOT TARGET Libmseed::Libmseed)
  add_library(Libmseed::Libmseed UNKNOWN IMPORTED)
  set_target_properties(Libmseed::Libmseed PROPERTIES
    IMPORTED_LOCATION "${Libmseed_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Libmseed_INCLUDE_DIR}")
endif()
mark_as_advanced(Libmseed_INCLUDE_DIR Libmseed_LIBRARY)
