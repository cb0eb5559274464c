#!/usr/bin/env bash
# Re-run every shipped experiment and measurement script after a change of results,
# into one folder per model fingerprint: results/rerun-<fingerprint>/<name>/.
#
#   bash scripts/rerun_experiments.sh            # everything (about 1 hour on 2 cores)
#   bash scripts/rerun_experiments.sh flagship stationarity   # only these
#
# Names: flagship scaling policy_sweep stationarity path_dependence calibration_table
# talent_flows. Each step's output and time go to <folder>/<name>.log; a step that
# fails does not stop the others (stationarity.py exits 1 when a city drifts: that is a
# finding, not a crash). The numbers quoted in README.md and docs/ are then updated by
# hand from these outputs (docs/experiments.md says where each comes from).
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
fingerprint=$($py -c "from clustersim.experiments.provenance import model_fingerprint as m; print(m())")
out="results/rerun-$fingerprint"
all=(flagship scaling policy_sweep stationarity path_dependence calibration_table talent_flows)
steps=("${@:-${all[@]}}")
declare -A command=(
  [flagship]=".venv/bin/clustersim-experiment run town_vs_metropolis --out $out/flagship"
  [scaling]=".venv/bin/clustersim-experiment run scaling --out $out/scaling"
  [policy_sweep]=".venv/bin/clustersim-experiment run policy_sweep --out $out/policy_sweep"
  [stationarity]="$py experiments/stationarity.py --out $out/stationarity"
  [path_dependence]="$py experiments/path_dependence.py --out $out/path_dependence"
  [calibration_table]="$py experiments/calibration_table.py --out $out/calibration_table"
  [talent_flows]="$py experiments/talent_flows.py --city region --years 100 --out $out/talent_flows"
)
for name in "${steps[@]}"; do
  if [ -z "${command[$name]+x}" ]; then
    echo "rerun_experiments: unknown step '$name'; known: ${all[*]}" >&2
    exit 2
  fi
done
mkdir -p "$out"
status=0
for name in "${steps[@]}"; do
  start=$(date +%s)
  ${command[$name]} > "$out/$name.log" 2>&1
  code=$?
  echo "$name: exit $code after $(( $(date +%s) - start )) s ($out/$name.log)"
  [ "$code" -gt 1 ] && status=1
done
exit $status
