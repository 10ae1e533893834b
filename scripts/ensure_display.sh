#!/usr/bin/env bash
# Make sure napari can open windows: Xvfb plus the Qt xcb and OpenGL system libraries.
# Installs them with apt-get when running as root; otherwise prints the exact command.
set -u
PKGS="xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxcb-cursor0 libdbus-1-3 libfontconfig1"
[ "$(uname -s)" = "Linux" ] || exit 0
command -v dpkg-query >/dev/null || { command -v xvfb-run >/dev/null || echo "Install Xvfb (xvfb-run) with your package manager."; exit 0; }
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ]; then
  echo "Installing system packages for the headless display:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { echo "apt-get install failed for:$missing" >&2; exit 1; }
else
  echo "Missing system packages for napari's display:$missing" >&2
  echo "Run:  sudo apt-get install -y$missing" >&2
  exit 1
fi
