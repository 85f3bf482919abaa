# cmake --install puts the commands, libiep with headers, CMake and pkg-config
# files and the manual pages in place, and a program builds against them.
. "$(dirname "$0")/lib.sh"
prefix=$T/prefix

expect 0 "cmake --install" -- cmake --install "$IEP_BIN" --prefix "$prefix"
for f in bin/iep-keygen bin/iep-pack bin/iep-send bin/iep-open bin/iep-verify \
  include/iep/package/package.h lib/pkgconfig/iep.pc lib/cmake/iep/iepConfig.cmake \
  share/man/man1/iep-send.1 share/man/man5/iep-package.5 share/man/man7/iep.7; do
  assert "installed $f" -- test -f "$prefix/$f"
done
assert "installed libiep" -- sh -c "ls '$prefix'/lib/libiep.so* >/dev/null"
expect 0 "installed iep-keygen runs" -- "$prefix/bin/iep-keygen" --site x -o x.id

cat >use.cpp <<'CPP'
#include <iep/package/manifest.h>
#include <cstdio>
int main() { std::printf("%zu\n", iep::new_package_id().size()); }
CPP
expect 0 "builds with pkg-config" -- sh -c "g++ -std=c++20 use.cpp \$(PKG_CONFIG_PATH='$prefix/lib/pkgconfig' pkg-config --cflags --libs iep) -Wl,-rpath,'$prefix/lib' -o use"
expect 0 "runs" -- ./use
assert "package ids are 32 hex digits" -- test "$(cat "$T/.out")" = 32
mkdir consumer
cat >consumer/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
find_package(iep REQUIRED)
add_executable(use ../use.cpp)
target_compile_features(use PRIVATE cxx_std_20)
target_link_libraries(use PRIVATE iep::iep)
CM
expect 0 "builds with find_package(iep)" -- sh -c "cmake -S consumer -B consumer/build -DCMAKE_PREFIX_PATH='$prefix' >/dev/null && cmake --build consumer/build >/dev/null"
finish
