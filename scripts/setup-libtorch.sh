#!/usr/bin/env bash
# Installs a project-local libtorch for tch 0.26 the first time; fast (a few checks) afterwards.
#
# - If LIBTORCH is set, that libtorch is used as is: this script only checks it.
# - Otherwise PyPI's torch==2.13.0 wheel (the libtorch tch 0.26 accepts) is installed with its
#   nvidia-* dependencies (libtorch loads libcudart/libcupti even on CPU) into .libtorch/venv, and
#   .libtorch/torch points at its torch/ folder (lib/ + include/). .cargo/config.toml points
#   LIBTORCH there; the build scripts of the tch-using crates (agents/build.rs) bake an rpath to
#   <libtorch>/lib into every binary and test, and libtorch's own rpath ($ORIGIN/../../nvidia/...)
#   finds the CUDA runtime libraries of the same venv. No LD_LIBRARY_PATH needed.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.13.0
ROOT="$PWD/.libtorch"
VENV="$ROOT/venv"
LINK="$ROOT/torch"

fail() {
    echo "setup-libtorch: $*" >&2
    exit 1
}

check() {
    local dir=$1 what=$2
    [ -f "$dir/lib/libtorch_cpu.so" ] || fail "$what $dir has no lib/libtorch_cpu.so: not a libtorch folder"
    [ -d "$dir/include/torch" ] || fail "$what $dir has no include/torch: not a libtorch folder"
}

if [ -n "${LIBTORCH:-}" ]; then
    # tch 0.26 needs PyTorch 2.13.0; torch-sys itself checks the version when it builds.
    check "$LIBTORCH" "LIBTORCH (set in the environment) ="
    exit 0
fi

if [ -f "$ROOT/.done-$TORCH_VERSION" ] && [ -e "$LINK/lib/libtorch_cpu.so" ]; then
    exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "python3 not found (needed once, to fetch torch==$TORCH_VERSION from PyPI)"
echo "setup-libtorch: installing torch==$TORCH_VERSION (libtorch + CUDA runtime, ~4.7 GB) into .libtorch/venv; first time only" >&2
mkdir -p "$ROOT"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || fail "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input "torch==$TORCH_VERSION" \
    || fail "pip install torch==$TORCH_VERSION failed (is PyPI reachable?)"
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
    || fail "cannot locate the venv's site-packages"
[ -d "$SITE/torch" ] || fail "torch was installed but $SITE/torch is missing"
# A relative link, so the folder keeps working if the project is moved.
ln -sfn "${SITE#"$ROOT"/}/torch" "$LINK"
check "$LINK" "installed libtorch"
touch "$ROOT/.done-$TORCH_VERSION"
echo "setup-libtorch: done: $LINK" >&2
