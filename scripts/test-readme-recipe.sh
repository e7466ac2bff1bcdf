#!/bin/sh
# Builds the README's new-app recipe exactly as written: its Package.swift, main.swift, test,
# pool file and nginx blocks (each after a `<!-- recipe: PATH -->` line) are copied verbatim
# into a temp folder `myapp/`, beside a link `swift-fpm` to this checkout, which is where the
# recipe's `.package(path: "../swift-fpm")` looks; the package is built and its test run; the
# pool file is checked as written by the app's own binary (`-t`, which knows `handler = myapp`;
# as root, its `user = www-data` must exist, as on Debian), and the nginx block by `nginx -t`
# when nginx is there.
#
#   scripts/test-readme-recipe.sh      (make test-readme-recipe)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
SWIFT=${SWIFT:-swift}
top=$(mktemp -d /tmp/readme-recipe-XXXXXX)
trap 'rm -rf "$top"' EXIT
work=$top/myapp
ln -s "$root" "$top/swift-fpm"

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

$SWIFT build --package-path "$work" --scratch-path "$root/.build-readme" --build-tests
$SWIFT test --skip-build --package-path "$work" --scratch-path "$root/.build-readme"

# The pool file as written, from the app's folder as the README runs it.
(cd "$work" && "$root/.build-readme/debug/myapp" -t -y myapp.conf)

if command -v nginx >/dev/null 2>&1; then
    cp /etc/nginx/fastcgi_params "$work/fastcgi_params"
    printf 'pid %s/nginx.pid;\nerror_log %s/nginx-error.log;\nevents {}\nhttp {\n    access_log off;\n    include %s/nginx.conf;\n}\n' \
        "$work" "$work" "$work" > "$work/nginx-test.conf"
    nginx -t -p "$work" -c "$work/nginx-test.conf"
fi
echo "test-readme-recipe: the README's recipe builds, its test passes, its pool file and nginx block are valid"
