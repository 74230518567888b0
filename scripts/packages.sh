#!/usr/bin/env bash
# Builds the Debian packages (debian/) from a clean copy of the tree, checks them with lintian,
# installs them into this machine, uses them as a Debian user would (the tools, a man page, a
# consumer built with pkg-config and with CMake, the Python binding), and removes them again,
# also when a step fails. Needs root (it installs packages).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
[ "$(id -u)" -eq 0 ] || { echo "packages.sh installs packages: run it as root" >&2; exit 1; }
# Packaging-only tools, on top of the build dependencies.
scripts/deps.sh debhelper lintian dpkg-dev fakeroot man-db

work=$(mktemp -d)
packages=(libdelivery1 libdelivery-dev delivery-tools)
cleanup() {
    rc=$?
    if dpkg-query -W "${packages[@]}" >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq --purge "${packages[@]}" >/dev/null ||
            rc=1
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

# The tree as it is (committed or not), without build folders or anything git ignores.
mkdir "$work/libdelivery"
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$work/libdelivery"

echo "--- dpkg-buildpackage"
(cd "$work/libdelivery" &&
    DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
    { tail -n 60 "$work/build.log"; exit 1; }
grep -E "^dpkg-gensymbols" "$work/build.log" || true
ls -1 "$work"/*.deb

echo "--- lintian (errors fail; see debian/README.source)"
lintian --fail-on error --info --display-level ">=warning" "$work"/*.changes

echo "--- install"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "$work"/libdelivery1_*.deb "$work"/libdelivery-dev_*.deb "$work"/delivery-tools_*.deb >/dev/null
delivery-doctor --version
delivery-host --version
man -w delivery-host
man -w 3 libdelivery
for tool in delivery-host delivery-doctor delivery-callcenter delivery-preview; do
    zcat -f "$(man -w "$tool")" >"$work/$tool.1"
    bash "$src/man/check-options.sh" "/usr/bin/$tool" "$work/$tool.1"
done
unit=/lib/systemd/system/delivery-host.service
test -f "$unit"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$unit" || echo "(systemd-analyze verify warned: no systemd running?)"
fi

echo "--- delivery-host as the service runs it: --no-stdin until SIGTERM, the packaged plugin"
plugin=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/delivery/libdelivery_plugin.so
mkdir "$work/svc"
delivery-callcenter --listen 127.0.0.1:0 --db "$work/svc/cc.db" --port-file "$work/svc/port" \
    --accept-any-terminal >/dev/null 2>&1 &
cc_pid=$!
for _ in $(seq 100); do [ -s "$work/svc/port" ] && break; sleep 0.1; done
printf '<config>\n  <serverUrl>http://127.0.0.1:%s/resto</serverUrl>\n  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n</config>\n' \
    "$(cat "$work/svc/port")" >"$work/svc/deliveryPluginConfig.xml"
delivery-host --no-stdin --plugin "$plugin" --config "$work/svc/deliveryPluginConfig.xml" \
    --data-dir "$work/svc" </dev/null >"$work/svc/out" 2>"$work/svc/err" &
host_pid=$!
for _ in $(seq 100); do grep -q '"event":"registered"' "$work/svc/out" && break; sleep 0.1; done
kill -TERM $host_pid
host_rc=0
wait $host_pid || host_rc=$?
kill -TERM $cc_pid && wait $cc_pid || true
grep -q '"event":"registered"' "$work/svc/out" && grep -q '"event":"stopped"' "$work/svc/out" &&
    [ $host_rc -eq 0 ] || { cat "$work/svc/out" "$work/svc/err"; exit 1; }
echo "delivery-host --no-stdin: registered, stopped on SIGTERM with status 0"

echo "--- a consumer of the installed libdelivery-dev"
cc -std=c11 -Wall -Werror "$src/test/integration/consumer/main.c" \
    $(pkg-config --cflags --libs delivery) -o "$work/consumer-pc"
"$work/consumer-pc"
cmake -S "$src/test/integration/consumer" -B "$work/consumer-cmake" >/dev/null
cmake --build "$work/consumer-cmake" >/dev/null
"$work/consumer-cmake/consumer"

echo "--- the Python binding against the installed package"
scripts/python-test.sh --installed

echo "--- packages: built, lintian clean, installed, used, removed"
