#!/bin/sh
# Regenerate every reference fixture of tests/reference/cases.toml from its generator.
#
#   sh tests/r/make_all.sh [SHARED_DIR] [OUT_DIR]
#
# Run from the project root. SHARED_DIR defaults to $REMITPOV_SHARED or ../shared; OUT_DIR
# (default: the project root, i.e. overwrite fixtures/) receives OUT_DIR/fixtures/*.json, so
#   sh tests/r/make_all.sh ../shared /tmp/regen && python tests/r/compare_fixtures.py /tmp/regen/fixtures
# checks that the committed fixtures are what the scripts produce, without touching them.
#
# Needs R 4.2.2 with survey, laeken, jsonlite, AER, sandwich, plm, estimatr, MatchIt, Matching
# (Debian r-cran-* packages). convey is not in Debian: the convey fixture is made only when
# `library(convey)` loads (see the header of make_convey_reference.R; set R_LIBS). The two
# Python generators (mpmath; ivmodels in a throw-away venv) are run only with MAKE_PYTHON=1.
set -u
ROOT=$(pwd)
SHARED=$(cd "${1:-${REMITPOV_SHARED:-../shared}}" && pwd)
export REMITPOV_SHARED="$SHARED"
OUT=$(mkdir -p "${2:-$ROOT}/fixtures" && cd "${2:-$ROOT}" && pwd)
cd "$OUT" || exit 2  # the scripts write fixtures/<name>.json relative to the working directory
[ "$OUT" = "$ROOT" ] || ln -sfn "$ROOT/tests" tests  # ... and source tests/r/*.R from it
status=0
for s in "$ROOT"/tests/r/make_*.R; do
  name=$(basename "$s")
  case "$name" in
    make_convey_reference.R)
      if ! Rscript -e 'stopifnot(packageVersion("convey") >= "1.0.1")' >/dev/null 2>&1; then
        echo "skip $name: R package convey >= 1.0.1 not installed (see its header)" >&2; continue
      fi
      Rscript "$s" "$SHARED" > fixtures/convey_eusilc.json.new && mv fixtures/convey_eusilc.json.new fixtures/convey_eusilc.json ;;
    make_poverty_relative_line.R)
      Rscript "$s" "$SHARED" > fixtures/poverty_relative_line.json.new &&
        mv fixtures/poverty_relative_line.json.new fixtures/poverty_relative_line.json ;;
    *)
      Rscript "$s" "$SHARED" >/dev/null ;;
  esac
  if [ $? -eq 0 ]; then echo "ran $name" >&2; else echo "FAILED $name" >&2; status=1; fi
done
if [ "${MAKE_PYTHON:-0}" = 1 ]; then
  for s in "$ROOT"/tests/r/make_*.py; do
    if python "$s"; then echo "ran $(basename "$s")" >&2; else echo "FAILED $(basename "$s")" >&2; status=1; fi
  done
fi
exit $status
