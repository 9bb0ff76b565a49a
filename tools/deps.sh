#!/bin/sh
# make deps: installs the Debian packages Dockling needs, with apt-get. A fast no-op when
# they are all present already. Extra package names given as arguments are installed too
# (`make bench` asks for the runtimes it compares against).
set -eu
packages="
  g++ cmake make python3 file ccache
  catch2 libfmt-dev nlohmann-json3-dev libarchive-dev libcli11-dev zstd
  libcurl4-openssl-dev libssl-dev libzstd-dev zlib1g-dev libcap-dev
  doxygen graphviz
  busybox-static iproute2 iptables nftables procps
  docker-registry skopeo curl zstd
  $*
"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
  echo "make deps: installing packages needs root: run 'sudo make deps'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package, on purpose
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "make deps: done"
