#!/usr/bin/env bash
# Handout Press, from a fresh clone:
#   ./run.sh build [generate.py options]   build every handout into out/
#   ./run.sh test  [pytest options]        run the test suite
# Either command first installs what is missing: the Debian packages listed in
# .ci/apt-packages, a virtual environment in .venv with the project in it, and
# the browser tests' npm package (axe-core) in node_modules/.
set -euo pipefail
cd "$(dirname "$0")"

missing_packages() {
  local pkg
  for pkg in $(grep -v '^\s*#' .ci/apt-packages | tr -s ' \n' ' '); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

setup() {
  if command -v dpkg-query >/dev/null 2>&1; then
    local missing
    missing=$(missing_packages | tr '\n' ' ')
    if [ -n "${missing// /}" ]; then
      local sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      echo "run.sh: installing Debian packages: $missing" >&2
      $sudo apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
    fi
  fi
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "run.sh: preparing the virtual environment in .venv" >&2
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q -e ".[test]" >&2
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
  npm_packages
}

# The browser tests' npm package (axe-core, pinned in package-lock.json), into
# node_modules/: installed again whenever the lock file changes.
npm_packages() {
  local stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "run.sh: installing Debian's npm" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >&2
  fi
  echo "run.sh: installing the npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
  touch "$stamp"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  build) setup; exec .venv/bin/python generate.py "$@" ;;
  test) setup; exec .venv/bin/python -m pytest "$@" ;;
  setup) setup ;;
  *) echo "usage: ./run.sh build|test|setup [options]" >&2; exit 2 ;;
esac
