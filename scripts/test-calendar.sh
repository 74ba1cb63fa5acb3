#!/usr/bin/env bash
# The suites run at the edges of the calendar, with the whole process tree's wall clock moved there by
# libfaketime (Debian package `faketime`): the first minutes of a year, the last seconds of February
# (the run crosses into March), a leap day, and the first minute of March. A test that reads the real
# date to compute what it expects, or code that reads the wall clock instead of its injected clock,
# fails here. libfaketime cannot run redis-server, so the suites that start one are left out: they run
# in `npm test`, and their calendar cases pin the store's clock instead. The CDK suites (test/lib) run at
# the first date only: lib/ and bin/ read no clock (synth is the same on any day), and at about five
# minutes a run they would more than double CI's time for what one date already checks of their tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime is not installed (Debian: apt-get install faketime)" >&2
  exit 2
fi

DATES=('2027-01-01 00:05:00' '2027-02-28 23:59:30' '2028-02-29 12:00:00' '2027-03-01 00:00:30')
mapfile -t WITH_REDIS < <(grep -rl --include='*.test.ts' 'RedisServer.start' test | sort)
IGNORE=('/node_modules/')
for suite in "${WITH_REDIS[@]}"; do IGNORE+=("/${suite//./\\.}$"); done

echo "calendar run: leaving out ${#WITH_REDIS[@]} suites that start redis-server: ${WITH_REDIS[*]}"
for date in "${DATES[@]}"; do
  echo "== faketime '$date' UTC"
  TZ=UTC faketime "$date" npx jest --ci --testPathIgnorePatterns "${IGNORE[@]}" "$@"
  # After the first date, the CDK suites too (see above).
  IGNORE+=('/test/lib/')
done
