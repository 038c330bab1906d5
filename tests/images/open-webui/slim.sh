#!/usr/bin/env bash
# Remove from Open WebUI's virtual environment what it certainly never uses at run time,
# then list the biggest packages left (in the build log). Run in the build stage only.
set -euo pipefail
venv=$1
site=$(echo "$venv"/lib/python3*/site-packages)

# Test suites shipped inside packages (numpy, pandas, scipy, scikit-learn, sympy, ...).
find "$site" -depth -type d -name tests -prune -exec rm -rf {} +
# C/C++ headers, CMake files and static libraries: nothing is compiled at run time.
rm -rf "$site"/torch/include "$site"/torch/share/cmake "$site"/pyarrow/include "$site"/pyarrow/src
find "$site" -name '*.a' -delete
# Source maps of the web UI's scripts: only a browser's developer tools ask for them.
find "$site"/open_webui/frontend -name '*.map' -delete
# Bytecode of everything (450 MB): the Dockerfile compiles again only what a start imports.
find "$venv" -depth -type d -name __pycache__ -prune -exec rm -rf {} +

du -sm "$site"/* | sort -rn | sed -n 1,25p  # not head: it would end sort with SIGPIPE (pipefail)
du -sm "$venv"
