#!/bin/sh
# The first `make` on a machine without the -dev packages, simulated (run by
# make check, a few seconds): a copy of the sources is built with a
# pkg-config on PATH that answers as on a bare machine (it knows no package)
# until a stand-in for src/scripts/deps.sh has "installed" them. One make must
# run the set-up once, then compile with every library's flags: the object
# that needs FreeType's headers (src/pdf/font.c, ft2build.h) is built.
# Then a package that stays unknown must be named, not blank the other flags.
# Nothing is installed or removed on this machine.
set -eu
REAL_PC=$(command -v pkg-config)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "check_setup: FAIL: $*" >&2; [ -f "$T/log" ] && tail -20 "$T/log" >&2; exit 1; }

mkdir "$T/tree" "$T/bin"
cp -r Makefile src include tests templates "$T/tree/"
mkdir "$T/tree/content"
cat > "$T/bin/pkg-config" <<EOF
#!/bin/sh
# a bare machine: no .pc file at all until deps are "installed"; \$T/unknown
# names a package that stays unknown
if [ ! -f "$T/installed" ]; then echo "\$*" >> "$T/asked-before-install"; exit 1; fi
for a in "\$@"; do [ -f "$T/unknown" ] && [ "\$a" = "\$(cat "$T/unknown")" ] && exit 1; done
exec "$REAL_PC" "\$@"
EOF
chmod +x "$T/bin/pkg-config"
cat > "$T/deps.sh" <<EOF
echo ran >> "$T/deps-ran"
touch "$T/installed"
EOF

cd "$T/tree"
# the object is the release build's, whatever MODE the calling make has (make asan passes
# MODE=asan down through MAKEFLAGS)
OBJ=build/release/src/pdf/font.o
PATH="$T/bin:$PATH" make --no-print-directory MODE=release DEPS_SH="$T/deps.sh" "$OBJ" > "$T/log" 2>&1 || fail "the first make on a bare machine failed"
[ -f "$OBJ" ] || fail "$OBJ was not built"
[ "$(wc -l < "$T/deps-ran")" = 1 ] || fail "the set-up ran $(wc -l < "$T/deps-ran") times, expected once"
[ ! -f "$T/asked-before-install" ] || fail "pkg-config was asked before the set-up installed anything: $(cat "$T/asked-before-install")"
grep -q -- "-I/usr/include/freetype2" "$T/log" || fail "the compile line lacks FreeType's -I flag"
grep -q -- "-I/usr/include/freetype2" build/pkg.mk || fail "build/pkg.mk lacks FreeType's flags"

# the second make: nothing to set up again
PATH="$T/bin:$PATH" make --no-print-directory MODE=release DEPS_SH="$T/deps.sh" "$OBJ" > "$T/log" 2>&1 || fail "the second make failed"
[ "$(wc -l < "$T/deps-ran")" = 1 ] || fail "the second make ran the set-up again"

# a package pkg-config still does not know after the set-up: named, and make stops
rm -rf build
echo freetype2 > "$T/unknown"
if PATH="$T/bin:$PATH" make --no-print-directory MODE=release DEPS_SH="$T/deps.sh" "$OBJ" > "$T/log" 2>&1; then
    fail "make succeeded although pkg-config does not know freetype2"
fi
grep -q "pkg-config does not know 'freetype2'" "$T/log" || fail "the error does not name the unknown package"
if grep -q "ft2build.h" "$T/log"; then fail "make compiled with blank flags instead of stopping"; fi
echo "check_setup: one make ran the set-up once, then compiled with every flag; an unknown package is named"
