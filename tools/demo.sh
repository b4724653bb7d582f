#!/usr/bin/env bash
# Run the kiosk demo: on a desktop, the two windows; with no display, the scripted tour
# writes a screenshot of every screen and the printed PDF into demo-tour/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} || $(uname) == Darwin ]]; then
  exec .venv/bin/python main.py demo "$@"
fi
out=${TOUR_DIR:-demo-tour}
echo "demo: no display found; running the scripted tour offscreen"
.venv/bin/python main.py demo --tour "$out" "$@"
echo "demo: screenshots and the printed form are in $(cd "$out" && pwd)"
