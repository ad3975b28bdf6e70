#!/usr/bin/env bash
# Copies the pages' third-party assets from npm, at the versions pinned in
# package-lock.json, into ../static/bi, which is committed and embedded in
# the binary: building Faldone needs only Go, and no page loads anything
# from another host. Run by `go generate ./gateway/web`; tests/assets
# checks that what is committed is what this script makes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../static/bi}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
bi=$work/node_modules/bootstrap-italia
rm -rf "$out"
mkdir -p "$out/fonts"
cp "$bi/LICENSE" "$out/LICENSE"
cp "$bi/dist/css/bootstrap-italia.min.css" "$out/"
cp "$bi/dist/js/bootstrap-italia.bundle.min.js" "$out/"
cp "$bi/dist/svg/sprites.svg" "$out/"
# Titillium Web, the font of the kit, and Roboto Mono for commands to copy.
cp "$bi/dist/fonts/Titillium_Web/"*.woff2 "$bi/dist/fonts/Titillium_Web/OFL.txt" "$out/fonts/"
cp "$bi/dist/fonts/Roboto_Mono/"roboto-mono-*-{regular,700}.woff2 "$out/fonts/"
# AgID's SPID button: its logo only (the button is drawn by the pages).
mkdir -p "$out/spid"
cp "$work/node_modules/spid-smart-button/dist/img/spid-ico-circle-bb.svg" "$out/spid/"
cp "$work/node_modules/spid-smart-button/LICENSE.md" "$out/spid/LICENSE.md"
# The source maps name files that are not served.
sed -i 's|//# sourceMappingURL=.*||; s|/\*# sourceMappingURL=.*\*/||' "$out/bootstrap-italia.min.css" "$out/bootstrap-italia.bundle.min.js"
for p in bootstrap-italia spid-smart-button; do
  echo "$p $(node -p "require('$work/node_modules/$p/package.json').version")"
done > "$out/VERSION"
