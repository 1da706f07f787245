# Helpers that give every folder the same shape: one static library per folder, warnings
# as errors for project code, and GoogleTest executables registered with ctest.

add_library(lockstep_warnings INTERFACE)
target_compile_options(lockstep_warnings INTERFACE
  -Wall -Wextra -Werror -Wnon-virtual-dtor -Wimplicit-fallthrough -Wno-unused-parameter)
if(LOCKSTEP_KNOWN_BUGS)
  target_compile_definitions(lockstep_warnings INTERFACE LOCKSTEP_KNOWN_BUGS=1)
endif()

set(LOCKSTEP_SHARED_DATA_DIR "${PROJECT_SOURCE_DIR}/../shared/data" CACHE PATH
    "Public test data with known answers (read-only, never copied into the repository)")

# lockstep_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# DEPS are the targets this folder may use according to DESIGN.md; linking is what
# enforces the layering, so add a dependency here only when the rules allow it.
function(lockstep_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} lockstep_warnings)
endfunction()

# lockstep_test(<name> SOURCES ... DEPS ... [MAIN none|gtest])
# Registers each GoogleTest case as its own ctest test so `ctest -j` spreads them out.
function(lockstep_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main lockstep_warnings)
  target_compile_definitions(${name} PRIVATE
    LOCKSTEP_SHARED_DATA_DIR="${LOCKSTEP_SHARED_DATA_DIR}"
    LOCKSTEP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120 PROPERTIES TIMEOUT 600)
endfunction()
