#!/bin/sh
# Prints the path of the first Python >= 3.12 that really runs (Django 6 needs it).
# Order: python3.13, python3.12, python3 on PATH, then pyenv's installed versions, newest first.
# pyenv shims exist for versions that are not selected and exit 127, so each candidate is run, not just found.
set -u

tried=""
runs_312() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

for name in python3.13 python3.12 python3; do
    tried="$tried $name"
    path=$(command -v "$name" 2>/dev/null) || continue
    if runs_312 "$path"; then
        echo "$path"
        exit 0
    fi
done

pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then
    pyenv_root=$(pyenv root 2>/dev/null || true)
fi
pyenv_root=${pyenv_root:-${PYENV_ROOT:-}}
if [ -n "$pyenv_root" ]; then
    tried="$tried $pyenv_root/versions/3.1[2-9]*/bin/python3"
    for path in $(ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -r -V); do
        if runs_312 "$path"; then
            echo "$path"
            exit 0
        fi
    done
fi

echo "error: no working Python >= 3.12 found (Django 6 needs it)." >&2
echo "tried:$tried" >&2
echo "Install Python 3.12 or newer, or name one: make run PYTHON=/path/to/python3.12" >&2
exit 1
