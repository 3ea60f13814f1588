#!/usr/bin/env bash
# Install the packages that carry the cover photo corpus (shared/DATA.md). Needs root or sudo.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    plasma-workspace-wallpapers mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04
if [ ! -d /usr/share/doc/opencv-doc/examples/data ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download opencv-doc && \
        dpkg-deb --fsys-tarfile opencv-doc_*.deb | $SUDO tar -x -C / ./usr/share/doc/opencv-doc/examples/data)
    rm -rf "$tmp"
fi
