#!/bin/sh
# Builds the README's new-app recipe exactly as written: its Package.swift, main.swift and test
# blocks (each after a `<!-- recipe: PATH -->` line) are copied verbatim into a temp package,
# with one change, the swift-fpm dependency pointed at this checkout (by path, named swift-fpm
# whatever the folder) instead of the URL; the package is built and its test run; the recipe's
# pool file is checked by the app's own binary (`-t`, which knows `handler = myapp`), and its
# nginx block by `nginx -t` when nginx is there.
#
#   scripts/test-readme-recipe.sh      (make test-readme-recipe)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
SWIFT=${SWIFT:-swift}
work=$(mktemp -d /tmp/readme-recipe-XXXXXX)
trap 'rm -rf "$work"' EXIT

extract() {
    awk -v name="$1" '
        $0 == "<!-- recipe: " name " -->" { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' README.md
}

for f in Package.swift Sources/myapp/main.swift Tests/myappTests/RouterTests.swift myapp.conf nginx.conf; do
    mkdir -p "$work/$(dirname "$f")"
    extract "$f" > "$work/$f"
    [ -s "$work/$f" ] || { echo "test-readme-recipe: README.md has no recipe block '$f'" >&2; exit 1; }
done

sed -i 's|\.package(url: "[^"]*swift-fpm[^"]*", branch: "main")|.package(name: "swift-fpm", path: "'"$root"'")|' "$work/Package.swift"
grep -q '\.package(name: "swift-fpm", path: ' "$work/Package.swift" || { echo "test-readme-recipe: the recipe's swift-fpm dependency line was not found" >&2; exit 1; }

$SWIFT build --package-path "$work" --scratch-path "$root/.build-readme" --build-tests
$SWIFT test --skip-build --package-path "$work" --scratch-path "$root/.build-readme"

sed -i "s|^error_log = .*|error_log = $work/error.log|" "$work/myapp.conf"
"$root/.build-readme/debug/myapp" -t -y "$work/myapp.conf"

if command -v nginx >/dev/null 2>&1; then
    cp /etc/nginx/fastcgi_params "$work/fastcgi_params"
    printf 'pid %s/nginx.pid;\nerror_log %s/nginx-error.log;\nevents {}\nhttp {\n    access_log off;\n    include %s/nginx.conf;\n}\n' \
        "$work" "$work" "$work" > "$work/nginx-test.conf"
    nginx -t -p "$work" -c "$work/nginx-test.conf"
fi
echo "test-readme-recipe: the README's recipe builds, its test passes, its pool file and nginx block are valid"
