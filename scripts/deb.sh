#!/bin/sh
# scripts/deb.sh [OUT] - what `make deb` does: builds tocsin's Debian
# packages with dpkg-buildpackage -us -uc -b from a clean copy of the
# source tree (git's files, committed or not, without build trees), so the
# worktree stays as it was, and checks them with lintian. The packages,
# .buildinfo, .changes and lintian's report end up in OUT (build-deb/).
set -eu

OUT=${1:-build-deb}
SRC=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/src
TREE=$WORK/tocsin-$VERSION

rm -rf "$WORK"
mkdir -p "$TREE"
# The files git knows about, and new ones it does not ignore.
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$SRC" && xargs -0 cp --parents -t "$TREE" 2>/dev/null) || {
    echo "deb.sh: cannot copy the source tree (is this a git checkout?)" >&2
    exit 1
}
rm -f "$OUT"/tocsin-*.deb "$OUT"/tocsin_*.buildinfo "$OUT"/tocsin_*.changes

echo "deb.sh: dpkg-buildpackage in $TREE" >&2
(cd "$TREE" && dpkg-buildpackage -us -uc -b -j"$(nproc 2>/dev/null || echo 2)") \
    >"$OUT/build.log" 2>&1 || {
    tail -n 40 "$OUT/build.log" >&2
    echo "deb.sh: dpkg-buildpackage failed; the whole log is $OUT/build.log" >&2
    exit 1
}
mv "$WORK"/*.deb "$WORK"/*.buildinfo "$WORK"/*.changes "$OUT"/
rm -rf "$WORK"

if command -v lintian >/dev/null 2>&1; then
    # Errors fail the build; warnings are reported.
    lintian --fail-on error --info "$OUT"/tocsin_"$VERSION"_*.changes >"$OUT/lintian.txt" 2>&1 || {
        cat "$OUT/lintian.txt" >&2
        echo "deb.sh: lintian found errors (above)" >&2
        exit 1
    }
    echo "deb.sh: lintian: $(grep -c '^E:' "$OUT/lintian.txt" || true) errors," \
        "$(grep -c '^W:' "$OUT/lintian.txt" || true) warnings (see $OUT/lintian.txt)" >&2
fi
ls "$OUT"/*.deb
