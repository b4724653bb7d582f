#!/usr/bin/env bash
# Install what is missing, and nothing else: system packages (apt, when root) and the
# Python packages in .venv. A second run with nothing missing takes a second or two.
#   tools/setup.sh run    what the kiosk needs to run (counter PCs)
#   tools/setup.sh test   plus what the test suite needs (developers and CI)
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# Debian package names. pyscard builds against libpcsclite with swig, pycups against
# libcups2-dev; Qt's xcb platform needs the libxcb/xkbcommon libraries; IPAex fonts cover
# the JIS X 0213 kanji of names, IPAmj明朝 the 戸籍 characters beyond them (外字 printed
# after a clerk decides so).
run_pkgs=(
  gcc swig libpcsclite-dev pcscd libcups2-dev
  fonts-ipaexfont-gothic fonts-ipaexfont-mincho fonts-ipamj-mincho
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
)
# Test-only tools: never installed on a counter PC by `make demo`.
# cups-daemon: the tests start their own private cupsd with a PDF-folder queue.
test_pkgs=(poppler-utils vsmartcard-vpcd postgresql cups-daemon)

wanted=("${run_pkgs[@]}")
[[ $mode == test ]] && wanted+=("${test_pkgs[@]}")

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
      echo "setup: installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "setup: these system packages are missing: ${missing[*]}" >&2
      echo "setup: install them with:  sudo apt-get install ${missing[*]}" >&2
      echo "setup: then run the same make command again." >&2
      exit 1
    fi
  fi
else
  echo "setup: not a Debian/Ubuntu system; install the equivalents of: ${wanted[*]}" >&2
fi

if [[ ! -x .venv/bin/python ]]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      apt-get install -y -qq python3-venv >/dev/null && "$PYTHON" -m venv .venv
    else
      echo "setup: '$PYTHON -m venv' failed; install python3-venv" >&2; exit 1
    fi
  fi
fi

# Reinstall Python packages only when pyproject.toml (or the mode) changed.
extras=""
[[ $mode == test ]] && extras="[test,dev]"
stamp=".venv/.installed-$mode"
want_hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want_hash" ]]; then
  echo "setup: installing Python packages into .venv ($mode)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$extras"
  echo "$want_hash" > "$stamp"
fi
