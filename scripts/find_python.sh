#!/usr/bin/env bash
# Print the best Python for the virtual environment: >= 3.12 if present, else python3.
# 3.12 first: it is the version the suite is developed and tested on.
root="$(command -v pyenv >/dev/null && pyenv root)"
for cand in python3.12 "$root"/versions/3.12*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
    python3.13 "$root"/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.13*/bin/python3; do
  if [ -x "$(command -v "$cand" 2>/dev/null)" ] && "$cand" -c 'import sys, venv; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    command -v "$cand"; exit 0
  fi
done
echo python3
