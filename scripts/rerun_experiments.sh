#!/usr/bin/env bash
# Re-run every shipped experiment and measurement script after a change of results,
# into one folder per model fingerprint: results/rerun-<fingerprint>/<name>/.
#
#   bash scripts/rerun_experiments.sh            # the default set (1-2 hours on 2 cores)
#   bash scripts/rerun_experiments.sh flagship stationarity   # only these
#   bash scripts/rerun_experiments.sh sobol morris_small_town  # steps outside the default set
#
# Run it from a checkout nobody edits meanwhile (git worktree add /tmp/rerun HEAD): runs
# carry the fingerprint of the code they ran, and a report written after the code changed
# leaves them out as stale.
#
# Names: flagship scaling policy_sweep stationarity calibration_table talent_flows
# town_and_city city_cut path_dependence (the runs quoted in docs/model.md and
# docs/experiments.md), talent_attraction (docs/policies.md), discovery and
# optimisation (docs/calibration.md).
# Outside the default set, named only (docs/calibration.md; minutes on 2 cores as
# docs/calibration.md gives them): calibration_eu (26), calibration_recovery (8), sobol
# (34), morris_small_town (61), morris_creative_city (35), morris_metropolis (2-2.5 hours).
# Each step's output and time go to <folder>/<name>.log; a step that
# fails does not stop the others, and the script exits 1 if any failed
# (stationarity.py's exit 1, a city that drifts, is a finding, not a failure). The numbers quoted in README.md and docs/ are then updated by
# hand from these outputs (docs/experiments.md says where each comes from).
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
fingerprint=$($py -c "from clustersim.experiments.provenance import model_fingerprint as m; print(m())")
out="results/rerun-$fingerprint"
all=(flagship scaling policy_sweep talent_attraction discovery optimisation stationarity
     calibration_table talent_flows town_and_city path_dependence city_cut)
extra=(calibration_eu calibration_recovery sobol morris_small_town morris_creative_city
       morris_metropolis)
known=("${all[@]}" "${extra[@]}")
steps=("${@:-${all[@]}}")
declare -A command=(
  [flagship]=".venv/bin/clustersim-experiment run town_vs_metropolis --out $out/flagship"
  [scaling]=".venv/bin/clustersim-experiment run scaling --out $out/scaling"
  [policy_sweep]=".venv/bin/clustersim-experiment run policy_sweep --out $out/policy_sweep"
  [talent_attraction]=".venv/bin/clustersim-experiment run talent_attraction_recruits --out $out/talent_attraction"
  [discovery]=".venv/bin/clustersim-experiment run discovery_small_town --out $out/discovery \
    && .venv/bin/clustersim-experiment discover $out/discovery --outcome creative_growth --above 0.2"
  [optimisation]=".venv/bin/clustersim-experiment run optimisation_small_town --out $out/optimisation"
  [calibration_eu]=".venv/bin/clustersim-experiment run calibration_eu --out $out/calibration_eu"
  [calibration_recovery]=".venv/bin/clustersim-experiment run calibration_recovery --out $out/calibration_recovery"
  [sobol]=".venv/bin/clustersim-experiment run sobol_small_town --out $out/sobol"
  [morris_small_town]=".venv/bin/clustersim-experiment run morris_small_town --out $out/morris_small_town"
  [morris_creative_city]=".venv/bin/clustersim-experiment run morris_creative_city --out $out/morris_creative_city"
  [morris_metropolis]=".venv/bin/clustersim-experiment run morris_metropolis --out $out/morris_metropolis"
  [stationarity]="$py experiments/stationarity.py --out $out/stationarity"
  [path_dependence]="$py experiments/path_dependence.py --out $out/path_dependence"
  [city_cut]="$py experiments/city_cut.py --out $out/city_cut"
  [calibration_table]="$py experiments/calibration_table.py --out $out/calibration_table"
  [talent_flows]="$py experiments/talent_flows.py --city region --years 100 --out $out/talent_flows/region \
    && $py experiments/talent_flows.py --city region --years 100 --set talent.size_weight=1 --out $out/talent_flows/region_sized \
    && $py experiments/talent_flows.py --city hodmezovasarhely --years 100 --out $out/talent_flows/hodmezovasarhely"
  [town_and_city]="$py experiments/town_and_city.py --city hodmezovasarhely --out $out/town_and_city/hodmezovasarhely \
    && $py experiments/town_and_city.py --city mizil --out $out/town_and_city/mizil \
    && $py experiments/town_and_city.py --city hodmezovasarhely --set firm.home_distance_weight=4 --out $out/town_and_city/hodmezovasarhely_home4 \
    && $py experiments/town_and_city.py --city mizil --set firm.home_distance_weight=4 --out $out/town_and_city/mizil_home4 \
    && $py experiments/town_and_city.py --city region --set talent.size_weight=1 --seeds 1 --years 1 --out $out/town_and_city/region_sized"
)
for name in "${steps[@]}"; do
  if [ -z "${command[$name]+x}" ]; then
    echo "rerun_experiments: unknown step '$name'; known: ${known[*]}" >&2
    exit 2
  fi
done
mkdir -p "$out"
status=0
for name in "${steps[@]}"; do
  start=$(date +%s)
  bash -c "${command[$name]}" > "$out/$name.log" 2>&1
  code=$?
  echo "$name: exit $code after $(( $(date +%s) - start )) s ($out/$name.log)"
  # stationarity.py exits 1 when a city drifts (a finding); any other non-zero code failed
  if [ "$code" -ne 0 ] && ! { [ "$name" = stationarity ] && [ "$code" -eq 1 ]; }; then
    status=1
  fi
done
exit $status
