#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install clustersim with its dev tools.
# Re-runs only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in python3 python3.13 python3.12 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  for dir in "$HOME"/.pyenv/versions/3.1[2-9]* /usr/local/bin /usr/bin; do
    for exe in "$dir"/bin/python3 "$dir"/python3.12 "$dir"/python3.13; do
      if [ -x "$exe" ] && "$exe" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
        echo "$exe"; return 0
      fi
    done
  done
  return 1
}

# The classroom app's browser tests run in Debian's Chromium (never `playwright install`:
# it downloads a browser). Installed in CI, or when missing and we are root; apt works in
# the background while pip fills .venv (on CI's fresh machines each took about a minute).
chromium_pid=""
chromium_log=""
if ! command -v chromium >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
    sudo=""
    # -n: no password prompt from a job in the background (it would fail at once instead)
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
    echo "Installing chromium (for the app's browser tests) ..." >&2
    chromium_log=$(mktemp)
    trap 'rm -f ${chromium_log:+"$chromium_log"}' EXIT
    (
      $sudo apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    ) >"$chromium_log" 2>&1 &
    chromium_pid=$!
  else
    echo "note: chromium is missing, so the app's browser tests will fail; install it with: sudo apt-get install chromium" >&2
  fi
fi

wait_for_chromium() {
  [ -n "$chromium_pid" ] || return 0
  if ! wait "$chromium_pid"; then
    cat "$chromium_log" >&2
    echo "installing chromium with apt-get failed (above)" >&2
    rm -f "$chromium_log"
    return 1
  fi
  rm -f "$chromium_log"
}

install_venv() {
  local stamp=.venv/.installed py
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
    return 0
  fi
  if ! py=$(find_python); then
    echo "clustersim needs Python >= 3.12, and none was found (tried python3, python3.13, python3.12, pyenv versions)." >&2
    return 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$py" --version) ..." >&2
    "$py" -m venv .venv || return 1
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  echo "Installing clustersim and its dependencies into .venv ..." >&2
  # (set -e does not act inside a function called with ||: each step says its failure)
  .venv/bin/python -m pip install --quiet -e ".[dev]" || return 1
  touch "$stamp"
}

status=0
install_venv || status=$?
wait_for_chromium || status=$?
exit "$status"
