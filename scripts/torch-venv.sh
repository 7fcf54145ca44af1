#!/usr/bin/env bash
# Makes the Python venv DIR for a comparison benchmark and installs PACKAGES into it. When
# .libtorch/venv exists (made by scripts/setup-libtorch.sh) the new venv sees its torch through
# a .pth file, so torch is not downloaded a second time.
#
#   scripts/torch-venv.sh .venv-sb3 "stable-baselines3==2.9.*" gymnasium==1.4.0
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [ -x .libtorch/venv/bin/python ]; then
    .libtorch/venv/bin/python -m venv "$dir"
    site=$("$dir/bin/python" -c 'import site; print(site.getsitepackages()[0])')
    .libtorch/venv/bin/python -c 'import site; print(site.getsitepackages()[0])' \
        > "$site/libtorch-venv.pth"
else
    python3 -m venv "$dir"
fi
"$dir/bin/pip" install -q "$@"
