# cmake -DSOURCE_DIR=... -DOUT_DIR=... -DHEADERS="a.h|b/c.h" -P stage_public_headers.cmake
#
# Copies the public headers (paths relative to SOURCE_DIR, see public_headers.cmake) to
# OUT_DIR/strata/, rewriting each in-tree include of another public header,
# `#include "ir/program.h"`, to `#include <strata/ir/program.h>`. An in-tree include of a
# header that is not public is an error: the installed header could not compile.

cmake_minimum_required(VERSION 3.20)  # IN_LIST
string(REPLACE "|" ";" headers "${HEADERS}")

# The name a public header is included by once installed: include/strata/X -> strata/X.
function(installed_name path out)
  if(path MATCHES "^include/strata/(.*)$")
    set(${out} "strata/${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    set(${out} "strata/${path}" PARENT_SCOPE)
  endif()
endfunction()

file(REMOVE_RECURSE "${OUT_DIR}/strata")  # a header dropped from the list must not linger
foreach(header IN LISTS headers)
  file(READ "${SOURCE_DIR}/${header}" text)
  # Only quoted includes name in-tree headers; <...> ones are the standard library,
  # fmt, or <strata/...> already.
  string(REGEX MATCHALL "#include \"[^\"]+\"" includes "${text}")
  foreach(include IN LISTS includes)
    string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" included "${include}")
    if(included MATCHES "^strata/")
      set(included "include/${included}")  # "strata/error.h", found through include/
    endif()
    if(NOT included IN_LIST headers)
      message(FATAL_ERROR "${header} is public but includes \"${included}\", which is not: "
                          "make it public in cmake/public_headers.cmake, or keep it out of ${header}")
    endif()
    installed_name("${included}" name)
    string(REPLACE "${include}" "#include <${name}>" text "${text}")
  endforeach()
  installed_name("${header}" name)
  file(WRITE "${OUT_DIR}/${name}" "${text}")
endforeach()
