#!/usr/bin/env bash
# Installs the Debian packages libdelivery builds, tests and demos with, when any is missing.
# Root installs them with apt-get; anyone else is told what to install.
set -euo pipefail

packages=(
    build-essential cmake pkg-config clang
    libxml2-dev libcurl4-openssl-dev libcjson-dev libuv1-dev libsqlite3-dev
    libmicrohttpd-dev libcairo2-dev libpango1.0-dev libcups2-dev fonts-dejavu-core
    libcunit1-dev valgrind poppler-utils curl openssl cups printer-driver-cups-pdf
    tzdata # /usr/share/zoneinfo: the restaurant's time zone (lib/common/tz.c)
    chromium chromium-driver python3-selenium # the delivery screen's browser test
    "$@"
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "libdelivery needs these Debian packages: ${missing[*]}" >&2
    echo "run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
