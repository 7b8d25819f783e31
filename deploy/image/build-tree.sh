#!/usr/bin/env bash
# Builds the tree the container image runs, from a source checkout, into <out>:
#
#   deploy/image/build-tree.sh <out>      (run from the repository root)
#
# The Dockerfile's build stage runs exactly this (its context is the checkout, filtered by
# .dockerignore); without Docker, running it by hand gives the same /app in <out> to inspect or
# to start a service from (docs/deployment.md). Steps:
#   1. copy the sources into <out>.build (tracked and new files when .git is there, else all)
#   2. npm ci (every dependency: TypeScript and Vite are needed to build)
#   3. vite build web             -> web/dist, the page web-gateway serves
#   4. tsc -p deploy/image/tsconfig.json   -> .js beside every .ts that a service or the
#      migrations run (no TypeScript loader at start-up: docs/deployment.md has the measurement)
#   5. copy what runs into <out>: manifests, lockfile, compiled packages/ and cmd/,
#      scripts/migrate.js, migrations/, cql/, web/dist, the health check
#   6. finish-tree.mjs: manifests point at .js, sources and tests removed
#   7. npm ci --omit=dev for the cmd/* workspaces only (the services and the terminal tools):
#      no dev dependencies, none of the root's tooling (bench, web build, test drivers)
#   8. drop the uWebSockets.js binaries of other platforms and Node versions (~100 MB)
set -euo pipefail
out=${1:?usage: deploy/image/build-tree.sh <out>}
[[ -f package-lock.json && -f deploy/image/tsconfig.json ]] || { echo "run from the repository root" >&2; exit 2; }
NPM_FLAGS=(--no-audit --no-fund --loglevel=error)
build=$out.build
step() { printf '[build-tree %3ss] %s\n' "$SECONDS" "$*"; }

rm -rf "$out" "$build"
mkdir -p "$out" "$build"
step "copy sources -> $build"
if [[ -d .git ]] && command -v git >/dev/null; then
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$build"
else
  tar --exclude=./node_modules --exclude='./*/*/node_modules' --exclude=./.git -cf - . | tar -xf - -C "$build"
fi

cd "$build"
step "npm ci (all dependencies, to build)"
npm ci "${NPM_FLAGS[@]}"
step "vite build web"
node_modules/.bin/vite build web --logLevel warn
step "tsc -p deploy/image/tsconfig.json"
node_modules/.bin/tsc -p deploy/image/tsconfig.json

step "copy the runtime tree -> $out"
cp package.json package-lock.json "$out/"
for base in packages cmd; do
  for dir in "$base"/*/; do
    dir=${dir%/}
    mkdir -p "$out/$dir"
    tar --exclude=./node_modules -cf - -C "$dir" . | tar -xf - -C "$out/$dir"
  done
done
mkdir -p "$out/scripts" "$out/web" "$out/deploy/image"
cp scripts/migrate.js "$out/scripts/"
cp -r migrations cql "$out/"
cp -r web/dist "$out/web/dist"
cp deploy/image/healthcheck.mjs deploy/image/health-ports.json "$out/deploy/image/"
node deploy/image/finish-tree.mjs "$out"

cd "$out"
step "npm ci --omit=dev for cmd/*"
workspaces=()
for dir in cmd/*/; do workspaces+=("--workspace=${dir%/}"); done
npm ci --omit=dev --ignore-scripts "${NPM_FLAGS[@]}" "${workspaces[@]}"
keep=$(node -p '`uws_${process.platform}_${process.arch}_${process.versions.modules}.node`')
find -L node_modules/uWebSockets.js -name 'uws_*.node' ! -name "$keep" -delete
[[ -n $(find -L node_modules/uWebSockets.js -name "$keep") ]] || { echo "uWebSockets.js has no $keep" >&2; exit 1; }
rm -rf "$build"
step "done: $(du -sh . | cut -f1) in $out"
