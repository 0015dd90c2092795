#!/usr/bin/env bash
# The C side of the C ABI, as a C user meets it:
# 1. `make -C ffi install` into target/c-prefix (the README's install step);
# 2. examples/c/extract.c built with plain cc and pkg-config against the
#    installed header and shared library, run on the sample: it must print
#    Anna Keller as PER; the same example linked statically;
# 3. ffi/tests/c/test_edgemine.c built with AddressSanitizer, LeakSanitizer
#    and UBSan and run: any failed check, leak or memory error fails;
# 4. the shared expected extractions (tests/cases.json) through the installed
#    library, from Python with ctypes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PREFIX=${EDGEMINE_C_PREFIX:-$PWD/target/c-prefix}
BUILD=$PWD/target/c-tests
mkdir -p "$BUILD"

make -s -C ffi install PREFIX="$PREFIX"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" LD_LIBRARY_PATH="$PREFIX/lib"

echo "-- examples/c/extract.c, shared"
cc examples/c/extract.c $(pkg-config --cflags --libs edgemine) -o "$BUILD/extract"
shared=$("$BUILD/extract" samples/sample.txt)
echo "$shared"
grep -qP '^PER\tAnna Keller\t49\t60\t' <<<"$shared" || { echo "extract.c did not print Anna Keller as PER at 49..60"; exit 1; }

echo "-- examples/c/extract.c, static"
cc examples/c/extract.c $(pkg-config --cflags edgemine) "$PREFIX/lib/libedgemine.a" \
    -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -Wl,-z,noexecstack \
    -o "$BUILD/extract-static"
[ "$(env -u LD_LIBRARY_PATH "$BUILD/extract-static" samples/sample.txt)" = "$shared" ] || { echo "static and shared differ"; exit 1; }

echo "-- ffi/tests/c/test_edgemine.c under AddressSanitizer, LeakSanitizer, UBSan"
version=$(pkg-config --modversion edgemine)
cc -std=c11 -Wall -Wextra -Werror -g -fsanitize=address,undefined -fno-omit-frame-pointer \
    -DEXPECTED_VERSION="\"$version\"" ffi/tests/c/test_edgemine.c $(pkg-config --cflags --libs edgemine) -lpthread \
    -o "$BUILD/test_edgemine"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$BUILD/test_edgemine"

echo "-- tests/cases.json through the installed library (ffi/tests/c/cases.py, ctypes)"
python3 ffi/tests/c/cases.py "$PREFIX/lib/libedgemine.so"
