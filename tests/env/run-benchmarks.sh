#!/usr/bin/env bash
# `make bench`: every benchmark project in Release, each comparing side by side in one run and printing
# "<name>: ... ratio=... (target ...)" lines; the summary repeats those lines at the end.
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
# shellcheck disable=SC1091
[[ -f "$CACHE/test-env.sh" ]] && . "$CACHE/test-env.sh"
out="$root/artifacts/bench"
mkdir -p "$out"
status=0
for project in tests/Cd4ml.Benchmarks.*/*.csproj; do
  name="$(basename "$project" .csproj)"
  echo "=== $name"
  dotnet run -c Release --project "$project" 2>&1 | tee "$out/$name.log"
  ((PIPESTATUS[0] != 0)) && status=1
done

echo "=== summary"
grep -hE '^[a-z_]+\.[][a-zA-Z0-9_.]+: ' "$out"/*.log
exit $status
