#!/bin/sh
# Runs the whole test suite: installs missing Debian packages, then
#  1. builds the unit tests with AddressSanitizer + UBSan and runs them;
#  2. builds the fuzz targets with clang/libFuzzer and runs each briefly;
#  3. builds everything with -Wall -Wextra -Werror and runs every test
#     (unit, protocol, e2e, fuzz replay), ending with ctest's summary.
# Build trees: build/asan, build/fuzz, build/main. Set SENDGUARD_QUICK=1 to
# skip steps 1 and 2.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/deps.sh"

jobs=$(nproc 2>/dev/null || echo 2)

if [ "${SENDGUARD_QUICK:-0}" != 1 ]; then
    echo "== unit tests under ASan + UBSan"
    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DSENDGUARD_DEVELOPER=ON -DSENDGUARD_SANITIZE=ON >/dev/null
    cmake --build build/asan -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions="$top/tests/lsan.supp" \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build/asan -L unit --output-on-failure -j "$jobs"

    echo "== fuzz targets (clang, libFuzzer), ${SENDGUARD_FUZZ_SECONDS:-30}s each"
    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
        -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
        -DSENDGUARD_FUZZ=ON -DSENDGUARD_FUZZ_SECONDS="${SENDGUARD_FUZZ_SECONDS:-30}" >/dev/null
    cmake --build build/fuzz -j "$jobs" --target fuzz_all
    ctest --test-dir build/fuzz -L fuzz --output-on-failure
fi

echo "== full suite (-Werror build)"
cmake -S . -B build/main -G Ninja -DSENDGUARD_DEVELOPER=ON >/dev/null
cmake --build build/main -j "$jobs"
exec ctest --test-dir build/main --output-on-failure -j "$jobs"
