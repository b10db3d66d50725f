#!/usr/bin/env bash
# Builds once, runs every test project in turn and prints one closing line summed over all of them:
#   N passed, N failed, N skipped
# Extra arguments go to each `dotnet test` (e.g. --filter).
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
# shellcheck disable=SC1091
[[ -f "$CACHE/test-env.sh" ]] && . "$CACHE/test-env.sh"
results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

if ! dotnet build Operator.sln -c "${CONFIGURATION:-Debug}" -nologo -v q; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0 failed=0 skipped=0 status=0
for project in tests/*.Tests/*.csproj; do
  name="$(basename "$project" .csproj)"
  echo "=== $name"
  log="$results/$name.log"
  dotnet test "$project" -c "${CONFIGURATION:-Debug}" --no-build --nologo "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  line="$(grep -E '^(Passed|Failed)! +- Failed: ' "$log" | tail -1)"
  if [[ -z "$line" ]]; then
    # The runner crashed or found nothing: that is a failure, not a pass.
    if grep -q "No test is available" "$log"; then :; else failed=$((failed + 1)); status=1; fi
    continue
  fi
  f=$(sed -E 's/.*Failed: *([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed: *([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: *([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if ((code != 0)); then
    status=1
    # A run that exits non-zero without a failed test (aborted host, crash) still counts as one failure.
    ((f == 0)) && failed=$((failed + 1))
  fi
done

# The failed tests with their messages once more at the end, so the tail of a long CI log names them.
if ((failed > 0)); then
  echo "=== failed tests"
  for log in "$results"/*.log; do
    awk '/^  Failed [^ ]/ { show = 12; print FILENAME ": " $0; next }
         /^  (Stack Trace|Standard Output Messages):/ { show = 0 }
         show > 0 { print; show-- }' "$log"
  done
fi

summary="$passed passed, $failed failed, $skipped skipped"
echo "$summary" > "$results/summary.txt"
echo "$summary"
exit $status
