#!/usr/bin/env bash
# A tool's --help and its man page name the same long options: check-options.sh TOOL PAGE.
set -euo pipefail
tool=$1 page=$2
options() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
from_help=$("$tool" --help | options)
from_page=$(sed 's/\\-/-/g' "$page" | options)
if [ "$from_help" != "$from_page" ]; then
    echo "$(basename "$tool") --help and $(basename "$page") differ (< help, > page):" >&2
    diff <(echo "$from_help") <(echo "$from_page") >&2 || true
    exit 1
fi
version=$("$tool" --version)
[[ $version =~ ^$(basename "$tool")\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || {
    echo "unexpected --version output: $version" >&2
    exit 1
}
echo "$(basename "$tool"): $(echo "$from_help" | wc -l) options in --help and the man page; $version"
