#!/usr/bin/env bash
# scaffold.sh <dir> <name> <deps...> : writes package.json, tsconfig.json for a workspace package.
set -euo pipefail
dir=$1; name=$2; shift 2
mkdir -p "$dir/src" "$dir/test"
deps=""
for d in "$@"; do
  case $d in
    @patchcert/*) v='"workspace:*"';;
    *@*) v="\"${d##*@}\""; d="${d%@*}";;
  esac
  deps="$deps    \"$d\": $v,
"
done
deps="${deps%,
}"
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "type": "module",
  "sideEffects": false,
  "exports": {
    "./package.json": "./package.json",
    ".": {
      "@patchcert/source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "import": "./dist/index.js"
    }
  },
  "main": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "files": ["dist", "src"],
  "scripts": {
    "build": "tsc -p tsconfig.json",
    "typecheck": "tsc -p tsconfig.json --noEmit",
    "test": "node ../../scripts/run-tests.mjs ."
  },
  "dependencies": {
$deps
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "outDir": "dist", "rootDir": "src", "tsBuildInfoFile": "dist/.tsbuildinfo" },
  "include": ["src"]
}
JSON
