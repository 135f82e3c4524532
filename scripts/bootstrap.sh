# Sourced by ./run and ./test: find Python 3.13, make .venv, install requirements,
# and (as root) the Debian packages the console needs. Usage: bootstrap <requirements file> <debian packages...>
set -euo pipefail

find_python() {
  for candidate in "${PYTHON:-}" python3.13 "$HOME/.pyenv/versions/3.13.0/bin/python" /root/.pyenv/versions/3.13*/bin/python /usr/local/bin/python3.13 /usr/bin/python3.13; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
      if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
        command -v "$candidate"
        return 0
      fi
    fi
  done
  return 1
}

install_debian_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
  else
    echo "SIM Console needs these Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
}

bootstrap() {
  local requirements=$1
  shift
  install_debian_packages "$@"
  if [ ! -x .venv/bin/python ]; then
    local python
    python=$(find_python) || {
      echo "SIM Console needs Python 3.13. Install it (e.g. 'pyenv install 3.13.0') or set PYTHON=/path/to/python3.13." >&2
      exit 1
    }
    echo "Creating .venv with $python"
    "$python" -m venv .venv
  fi
  # Reinstall only when the requirements changed since the last install.
  local stamp=".venv/.installed-$(cat requirements*.txt | sha1sum | cut -c1-12)-$(basename "$requirements")"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
    touch "$stamp"
  fi
}

# emnify's Python SDK in a virtual environment of its own (it needs pydantic 1),
# for tests/api/test_emnify_sdk.py. Not fatal: without PyPI that test skips,
# naming what is missing.
EMNIFY_SDK_VENV=.venv-emnify
EMNIFY_SDK_STAMP="$EMNIFY_SDK_VENV/.installed-emnify-sdk-0.5.3"
bootstrap_emnify_sdk() {
  [ -f "$EMNIFY_SDK_STAMP" ] && return 0
  rm -rf "$EMNIFY_SDK_VENV"
  echo "Creating $EMNIFY_SDK_VENV with emnify-sdk 0.5.3"
  if .venv/bin/python -m venv "$EMNIFY_SDK_VENV" \
    && "$EMNIFY_SDK_VENV/bin/python" -m pip install -q --disable-pip-version-check "emnify-sdk==0.5.3" "pydantic<2"; then
    touch "$EMNIFY_SDK_STAMP"
  else
    echo "Could not build $EMNIFY_SDK_VENV (emnify-sdk==0.5.3, pydantic<2): tests/api/test_emnify_sdk.py will skip." >&2
    rm -rf "$EMNIFY_SDK_VENV"
  fi
}

# The JavaScript the tests run, each from its lock file (npm ci), when missing or when the lock file changed
# since: the real particle-api-js (two versions side by side) that tests/api/test_particle_client.py runs
# against a live server, and axe-core, which tests/browser/test_every_page_in_browser.py injects into pages.
install_node_clients() {
  npm_ci_when_changed tests/clients/particle "particle-api-js for the client tests" "the particle-api-js client tests"
  npm_ci_when_changed tests/clients/axe "axe-core for the accessibility checks" "the axe-core accessibility checks"
}

npm_ci_when_changed() {
  local dir=$1 what=$2 skipped=$3
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: $skipped will be skipped (install Node.js and npm to run them)." >&2
    return 0
  fi
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "Installing $what (npm ci in $dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || echo "npm ci failed in $dir: $skipped will be skipped." >&2
  fi
}
