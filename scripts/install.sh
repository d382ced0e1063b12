#!/usr/bin/env bash
# Set up unmask in a virtual environment.
#
#   scripts/install.sh            -> .venv with unmask and its runtime dependencies
#   scripts/install.sh test       -> the same, plus the test extras
#   scripts/install.sh dev        -> the same, plus test and dev tools
#
# Environment:
#   UNMASK_VENV   where the virtual environment lives (default: .venv in the repo).
#                 If a virtual environment is already active ($VIRTUAL_ENV) it is used.
#   PYTHON        the interpreter used to create the venv (default: python3).
#
# Fashion-MNIST: the Debian package dataset-fashion-mnist is installed too when apt-get
# can run without a password prompt (as root, or with passwordless sudo); with the test and dev
# extras also Chromium and chromedriver, which the web page's browser tests drive.
#
# PyTorch: an importable torch is kept as it is (CUDA or not). Without one, the CPU
# build is installed: from a local wheel/index when one is configured (no download),
# else from PyPI if an NVIDIA GPU is present, else from the PyTorch CPU index. A
# plain "pip install torch" would pull a multi-GB CUDA build onto CPU machines.
set -euo pipefail

extra="${1:-}"
case "$extra" in
  "" ) spec="." ;;
  test ) spec=".[test]" ;;
  dev ) spec=".[dev]" ;;
  * ) echo "install.sh: unknown extra '$extra' (use: test, dev)" >&2; exit 2 ;;
esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if [ -n "${VIRTUAL_ENV:-}" ] && [ -z "${UNMASK_VENV:-}" ]; then
  venv="$VIRTUAL_ENV"
else
  venv="${UNMASK_VENV:-$repo/.venv}"
fi
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check)

torch_version="${UNMASK_TORCH_VERSION:-2.13.0}"
if "$py" -c "import torch" 2>/dev/null; then
  echo "install.sh: keeping the installed torch $("$py" -c 'import torch; print(torch.__version__)')"
elif "${pip[@]}" install -q --no-index --no-deps "torch==$torch_version" 2>/dev/null; then
  # a local (CPU) wheel: take it, then let pip add torch's own dependencies from the index
  "${pip[@]}" install -q "torch==$torch_version"
  echo "install.sh: installed torch $torch_version from the local wheels"
elif command -v nvidia-smi >/dev/null 2>&1; then
  "${pip[@]}" install -q "torch==$torch_version"
else
  "${pip[@]}" install -q "torch==$torch_version" --index-url https://download.pytorch.org/whl/cpu
fi

"${pip[@]}" install -q -e "$spec"

# Fashion-MNIST comes from Debian's dataset-fashion-mnist (the real image benchmark; the
# default digits run does not need it). Installed when apt is usable without a prompt.
# apt_install PACKAGE… : Debian packages, when apt is usable without a prompt (root or passwordless sudo)
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo_=""
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then sudo_="sudo -n"; else return 1; fi
  fi
  $sudo_ apt-get install -y -q "$@" >/dev/null 2>&1 \
    || { $sudo_ apt-get update -q >/dev/null 2>&1 && $sudo_ apt-get install -y -q "$@" >/dev/null 2>&1; }
}
fmnist=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ ! -f "$fmnist" ]; then
  apt_install dataset-fashion-mnist \
    && echo "install.sh: installed the Debian package dataset-fashion-mnist" \
    || echo "install.sh: could not install dataset-fashion-mnist; Fashion-MNIST runs need it" >&2
fi
# the web page's browser tests drive Debian's headless Chromium through chromedriver
if [ "$extra" != "" ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
  apt_install chromium chromium-driver \
    && echo "install.sh: installed Chromium and chromedriver (the browser tests)" \
    || echo "install.sh: could not install chromium / chromium-driver; the browser tests need them" >&2
fi
if [ ! -f "$fmnist" ]; then
  echo "install.sh: Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist); digits work without it" >&2
fi
"$py" -c "import torch, unmask; print(f'install.sh: unmask {unmask.__version__} with torch {torch.__version__} in $venv')"
