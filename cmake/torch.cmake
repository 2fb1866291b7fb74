# Finds LibTorch in the project's .venv (or $R1_PYTHON) and defines:
#   r1_torch       an interface target to link for LibTorch (CPU, plus CUDA when enabled)
#   R1_WITH_CUDA   ON when CUDA sources are compiled
# The CPU build never needs a GPU or the CUDA toolkit: without CUDA it links torch_cpu and c10
# directly from the wheel instead of going through TorchConfig's CUDA discovery.
if(NOT R1_PYTHON)
  if(EXISTS ${PROJECT_SOURCE_DIR}/.venv/bin/python)
    set(R1_PYTHON ${PROJECT_SOURCE_DIR}/.venv/bin/python)
  else()
    set(R1_PYTHON python3)
  endif()
endif()
execute_process(
  COMMAND ${R1_PYTHON} -c "import torch, os; print(os.path.dirname(torch.__file__)); print(torch.utils.cmake_prefix_path); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.version.cuda or '')"
  OUTPUT_VARIABLE _r1_torch_info RESULT_VARIABLE _r1_torch_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _r1_torch_rc EQUAL 0)
  message(FATAL_ERROR "r1: cannot import torch with ${R1_PYTHON}; run scripts/setup.sh first")
endif()
string(REPLACE "\n" ";" _r1_torch_info "${_r1_torch_info}")
list(GET _r1_torch_info 0 R1_TORCH_DIR)
list(GET _r1_torch_info 1 R1_TORCH_CMAKE_PREFIX)
list(GET _r1_torch_info 2 R1_TORCH_CXX11_ABI)
list(LENGTH _r1_torch_info _n)
set(R1_TORCH_CUDA_VERSION "")
if(_n GREATER 3)
  list(GET _r1_torch_info 3 R1_TORCH_CUDA_VERSION)
endif()

set(R1_WITH_CUDA OFF)
if(R1_CUDA STREQUAL "ON" OR R1_CUDA STREQUAL "AUTO")
  # AUTO also needs a visible GPU: a machine with only the toolkit builds for CPU.
  set(_r1_gpu ON)
  if(R1_CUDA STREQUAL "AUTO")
    execute_process(COMMAND nvidia-smi -L RESULT_VARIABLE _r1_smi OUTPUT_QUIET ERROR_QUIET)
    if(NOT _r1_smi EQUAL 0)
      set(_r1_gpu OFF)
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(_r1_gpu AND CMAKE_CUDA_COMPILER AND R1_TORCH_CUDA_VERSION)
    set(R1_WITH_CUDA ON)
  elseif(R1_CUDA STREQUAL "ON")
    message(FATAL_ERROR "r1: R1_CUDA=ON but nvcc or a CUDA build of torch is missing")
  endif()
endif()

add_library(r1_torch INTERFACE)
# libtorch.so exports its own copies of some std::filesystem functions, and one of them
# (remove_all) jumps to address 0 when called from our code. Naming libstdc++ before LibTorch
# makes the dynamic linker bind those symbols to the system's libstdc++ instead.
target_link_libraries(r1_torch INTERFACE "-Wl,--push-state,--no-as-needed" stdc++ "-Wl,--pop-state")
if(R1_WITH_CUDA)
  enable_language(CUDA)
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(ENV{TORCH_CUDA_ARCH_LIST} "9.0")  # Hopper (H100/H200); override through the environment
  endif()
  list(APPEND CMAKE_PREFIX_PATH ${R1_TORCH_CMAKE_PREFIX})
  find_package(Torch REQUIRED)
  target_link_libraries(r1_torch INTERFACE ${TORCH_LIBRARIES})
  target_include_directories(r1_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
  target_compile_definitions(r1_torch INTERFACE R1_WITH_CUDA=1)
else()
  find_library(R1_TORCH_CPU_LIB torch_cpu PATHS ${R1_TORCH_DIR}/lib NO_DEFAULT_PATH REQUIRED)
  find_library(R1_TORCH_LIB torch PATHS ${R1_TORCH_DIR}/lib NO_DEFAULT_PATH REQUIRED)
  find_library(R1_C10_LIB c10 PATHS ${R1_TORCH_DIR}/lib NO_DEFAULT_PATH REQUIRED)
  target_link_libraries(r1_torch INTERFACE ${R1_TORCH_LIB} ${R1_TORCH_CPU_LIB} ${R1_C10_LIB})
  target_include_directories(r1_torch SYSTEM INTERFACE
    ${R1_TORCH_DIR}/include ${R1_TORCH_DIR}/include/torch/csrc/api/include)
endif()
target_compile_definitions(r1_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${R1_TORCH_CXX11_ABI})
# Binaries find the wheel's shared libraries without LD_LIBRARY_PATH.
set(CMAKE_BUILD_RPATH ${R1_TORCH_DIR}/lib)
message(STATUS "r1: torch at ${R1_TORCH_DIR} (cuda ${R1_TORCH_CUDA_VERSION}), CUDA kernels: ${R1_WITH_CUDA}")
set(R1_CUDA_ACTIVE ${R1_WITH_CUDA} CACHE INTERNAL "whether this build compiles CUDA (read by scripts/test.sh)")
