#!/bin/sh
# Install what building, testing and the demo need on Debian, and only
# what is missing; create the unprivileged user the daemon runs as.
set -eu

# Clients for the interoperability tests (ntpdig, ntpdate), a capture
# tool, xmllint for the pictures of ntpctl plot, and the libraries
# chronyd needs: chronyd itself is unpacked from
# its package below, never installed, so that no time service starts and
# the machine's own (systemd-timesyncd, say) is not removed.
PKGS="gcc make pkg-config libc6-dev libbsd-dev libsodium-dev libseccomp-dev
check tzdata iproute2 procps util-linux mandoc ntpsec-ntpdig ntpsec-ntpdate tcpdump
libcap2 libedit2 libgnutls30 libnettle8 libseccomp2
jq curl libxml2-utils"
NTPD_USER=_ntp
TOP=$(cd "$(dirname "$0")/.." && pwd)
CHRONY_DIR="$TOP/build/ext/chrony"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages:$missing" >&2
		echo "deps: run 'make deps' as root to install them" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	apt-get update -q
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing
fi

if ! getent passwd "$NTPD_USER" >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: user $NTPD_USER is missing; run 'make deps' as root" >&2
		exit 1
	fi
	echo "deps: creating system user $NTPD_USER"
	useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$NTPD_USER"
fi

# chronyd for the tests, from Debian's package, unpacked and not installed.
if [ ! -x "$CHRONY_DIR/usr/sbin/chronyd" ]; then
	echo "deps: unpacking chronyd into $CHRONY_DIR (not installed)"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q chrony >/dev/null 2>&1) || {
		apt-get update -q && (cd "$tmp" && apt-get download -q chrony)
	}
	mkdir -p "$CHRONY_DIR"
	dpkg-deb -x "$tmp"/chrony_*.deb "$CHRONY_DIR"
	rm -rf "$tmp"
fi
