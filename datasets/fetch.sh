#!/usr/bin/env bash
# Put the IDX files spikeburn reads into this folder (git ignores them), then point spikeburn at
# it: `--data-dir datasets` or `export SPIKEBURN_DATA=$PWD/datasets`.
#
#   datasets/fetch.sh from DIR   copy DIR/mnist/ and DIR/fashion-mnist/ (e.g. a shared copy)
#   datasets/fetch.sh fashion    install Debian's dataset-fashion-mnist (needs root) and copy it
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

copy_set() { # SRC_DIR DEST_NAME
  local src="$1" dest="$here/$2" found=0
  mkdir -p "$dest"
  for f in $files; do
    if [ -f "$src/$f.gz" ]; then cp "$src/$f.gz" "$dest/"; found=$((found + 1));
    elif [ -f "$src/$f" ]; then cp "$src/$f" "$dest/"; found=$((found + 1)); fi
  done
  if [ "$found" -ne 4 ]; then
    echo "error: $src holds $found of the 4 IDX files ($files, optionally .gz)" >&2
    exit 1
  fi
  echo "copied $src -> $dest"
}

case "${1:-}" in
  from)
    src="${2:?usage: datasets/fetch.sh from DIR}"
    [ -d "$src/mnist" ] && copy_set "$src/mnist" mnist
    [ -d "$src/fashion-mnist" ] && copy_set "$src/fashion-mnist" fashion-mnist
    [ -d "$src/mnist" ] || [ -d "$src/fashion-mnist" ] || { echo "error: no mnist/ or fashion-mnist/ in $src" >&2; exit 1; }
    ;;
  fashion)
    deb=/usr/share/datasets/fashion-mnist
    if [ ! -d "$deb" ]; then
      apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
    fi
    copy_set "$deb" fashion-mnist
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
