# The libFuzzer harnesses (tests/fuzz/*.c), built only in a clang configuration with
# -DTV_FUZZ=ON (see ./dev.sh fuzz). Each becomes build-fuzz/fuzz/<name>.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TV_FUZZ needs clang: cmake -DCMAKE_C_COMPILER=clang -DTV_FUZZ=ON")
endif()
file(GLOB TV_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/*.c)
foreach(src ${TV_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(fuzz_${name} ${src})
  set_target_properties(fuzz_${name} PROPERTIES OUTPUT_NAME ${name}
                        RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  target_include_directories(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(fuzz_${name} PRIVATE truyvet_lib)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
endforeach()
