#!/bin/sh
# Install what building, testing and the demo need on Debian, and only
# what is missing; create the unprivileged user the daemon runs as.
set -eu

PKGS="gcc make pkg-config libc6-dev libbsd-dev libsodium-dev libseccomp-dev
check iproute2 procps util-linux mandoc"
NTPD_USER=_ntp

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
