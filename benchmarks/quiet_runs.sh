#!/usr/bin/env bash
# The benchmark runs whose timings in benchmarks/RESULTS.md must be re-measured on a QUIET machine
# (issue #17: every timing of sessions 3-5 was taken at load 8-21 on 2 shared cores).
#
#   bash benchmarks/quiet_runs.sh [OUTDIR]        # from anywhere; ~8 min on 2 quiet cores
#   QUIET_ONLY="3 4" bash benchmarks/quiet_runs.sh # a subset (numbers of the list below)
#   bash benchmarks/quiet_runs.sh --list           # the runs and expected wall times, nothing run
#   QUIET_TINY=1 bash benchmarks/quiet_runs.sh     # every run at its --tiny size (smoke test)
#
# Needs the test extras (dask, distributed, pyarrow, duckdb) and R with laeken for run 1. Nothing
# is asserted about time: every benchmark asserts its numbers (peers, engines) and prints its own
# table; this script adds wall / CPU (user + sys, children included: R, Dask workers, subprocesses)
# / peak RSS of each command (GNU time) and the load average before and after it, and prints at
# the end ONE Markdown block (machine, versions, commit, summary table, each benchmark's table in
# a text block) to paste into RESULTS.md as it is. Logs stay in OUTDIR.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg PYTHONWARNINGS=ignore
PY="${PYTHON:-python}"

# number | what it re-measures (RESULTS.md section) | expected wall s on 2 quiet cores | command
# Expected = CPU seconds (children included) measured under load on 2026-11-30 plus margin: run 1 used
# 29 s CPU (R included); run 2 ~13 s per 3 repeats; run 3 35 s CPU without DuckDB (DuckDB's Gini at
# 10^7: the longest part, multi-threaded); run 4 ~2 s CPU per call plus data; run 5 ~15 s CPU.
RUNS=(
  "1|FGT table vs numpy kernel (default, deff), Gini/ARPR + SE vs laeken, 1,000 bootstrap replicates, peak memory; 10^6 rows|90|$PY benchmarks/bench_fgt.py --sizes 1e6 --tools remitpov,numpy,laeken --repeats 7 --bootstrap 1000"
  "2|Engines on ONE partition (Dask synchronous, DuckDB on the frame) vs in memory: FGT table, Gini + SE, peak memory; 10^6 rows|45|$PY benchmarks/bench_engines.py --sizes 1e6 --no-cluster --repeats 5"
  "3|2-worker LocalCluster vs in memory (and DuckDB on the same Parquet files): FGT table, Gini + SE; 10^7 rows|240|$PY benchmarks/bench_engines.py --sizes --cluster-rows 1e7"
  "4|FGT(0,1,2) + number of poor by 10,000 domains (and 1,000); 10^6 rows|40|$PY benchmarks/bench_domains.py --rows 1e6 --domains 1000,10000 --repeats 3"
  "5|Where the cluster time goes (task stream by task, workers' CPU, import and idle cost); 2x10^6 rows in 10 files|45|$PY benchmarks/profile_cluster.py --rows 2e6 --file-rows 2e5"
  "6|Census tabulations in memory (origin x sex x education, sex ratio, tertiary share, age, Docquier-Marfouk rates; #13) at 10^6 and 10^7 persons, CPU scaling|120|$PY benchmarks/bench_census.py --sizes 1e6 1e7 --parquet-sizes"
)

if [[ "${1:-}" == "--list" ]]; then  # the runs and their expected wall times, nothing run
  for r in "${RUNS[@]}"; do IFS='|' read -r k what exp cmd <<<"$r"; echo "$k|$exp|${cmd#"$PY "}"; done
  exit 0
fi
OUT="${1:-$(mktemp -d /tmp/remitpov-quiet-XXXXXX)}"
mkdir -p "$OUT"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
total_expected=0
for r in "${RUNS[@]}"; do IFS='|' read -r _ _ exp _ <<<"$r"; total_expected=$((total_expected + exp)); done

first_load="$(loadavg)"
echo "remitpov quiet runs -> $OUT; expected ~$((total_expected / 60)) min in all; load now: $first_load" >&2
if awk -v l="${first_load%% *}" 'BEGIN{exit !(l > 1.0)}'; then
  echo "WARNING: 1-minute load $first_load > 1: the machine is not quiet; the table will say so" >&2
fi

declare -A WALL CPU RSS LB LA RC
for r in "${RUNS[@]}"; do
  IFS='|' read -r k what exp cmd <<<"$r"
  if [[ -n "${QUIET_ONLY:-}" && " $QUIET_ONLY " != *" $k "* ]]; then continue; fi
  [[ -n "${QUIET_TINY:-}" ]] && cmd="$cmd --tiny"  # (the test suite's smoke run of this script)
  echo "[$k] $cmd   (expected ~${exp} s)" >&2
  LB[$k]="$(loadavg)"
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/$k.time" $cmd >"$OUT/$k.log" 2>"$OUT/$k.err" </dev/null
  RC[$k]=$?
  LA[$k]="$(loadavg)"
  read -r w u s m < <(tail -n 1 "$OUT/$k.time")
  WALL[$k]="$w"
  CPU[$k]="$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.1f", u + s}')"
  RSS[$k]="$(awk -v m="$m" 'BEGIN{printf "%.0f", m / 1024}')"
  echo "[$k] exit ${RC[$k]}, wall ${WALL[$k]} s, cpu ${CPU[$k]} s" >&2
done

# ---------------------------------------------------------------- the block to paste into RESULTS.md
versions="$($PY - <<'EOF'
import importlib, platform
out = [f"Python {platform.python_version()}"]
for m in ("numpy", "pandas", "scipy", "dask", "distributed", "pyarrow", "duckdb"):
    try:
        out.append(f"{m} {importlib.import_module(m).__version__}")
    except Exception:
        pass
print(", ".join(out))
EOF
)"
rver="$(Rscript -e 'cat(R.version$major, ".", R.version$minor, ", laeken ", as.character(packageVersion("laeken")), sep="")' 2>/dev/null || echo "not found")"
cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
mem="$(awk '/MemTotal/{printf "%.1f GiB", $2 / 2^20}' /proc/meminfo)"

echo
echo "### Quiet-machine runs (\`benchmarks/quiet_runs.sh\`), $(date -u '+%Y-%m-%d %H:%M') UTC"
echo
echo "Commit \`$(git rev-parse --short HEAD 2>/dev/null)\`$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)');" \
     "$(nproc) cores, \"$cpu_model\", $mem; $versions; R $rver. Load average at the start: $first_load."
echo "Wall = elapsed; CPU = user + system of the command and its children (R, Dask workers, per-size"
echo "subprocesses); peak RSS = the largest single process. Each benchmark's own table follows the summary."
echo
echo "| # | what | command | expected wall s | wall s | CPU s | peak RSS MiB | load before -> after | exit |"
echo "|---|---|---|---:|---:|---:|---:|---|---:|"
for r in "${RUNS[@]}"; do
  IFS='|' read -r k what exp cmd <<<"$r"
  [[ -z "${RC[$k]:-}" ]] && continue
  echo "| $k | $what | \`${cmd#"$PY "}\` | $exp | ${WALL[$k]} | ${CPU[$k]} | ${RSS[$k]} | ${LB[$k]} -> ${LA[$k]} | ${RC[$k]} |"
done
for r in "${RUNS[@]}"; do
  IFS='|' read -r k what exp cmd <<<"$r"
  [[ -z "${RC[$k]:-}" ]] && continue
  echo
  echo "#### $k. $what"
  echo
  echo '```text'
  echo "\$ ${cmd#"$PY "}"
  cat "$OUT/$k.log"
  if [[ "${RC[$k]}" != 0 ]]; then echo "--- exit ${RC[$k]}; last lines of stderr:"; tail -n 15 "$OUT/$k.err"; fi
  echo '```'
done
