#!/usr/bin/env bash
# Install what the real-engine Docker tests need, when missing: Debian's docker.io (the engine),
# docker-registry (a registry on loopback to pull from) and debootstrap (the test image's rootfs).
# Shared by .ci/run and test/helpers/docker-engine.ts. Installing must not start the distro's
# docker service (it would listen on /var/run/docker.sock): a policy-rc.d that refuses service
# starts is put in place for the install when the machine has none, and removed afterwards.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
need=()
command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] || need+=(docker.io)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
[ ${#need[@]} -eq 0 ] && exit 0
policy=/usr/sbin/policy-rc.d
placed=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  placed=1
fi
trap '[ -n "$placed" ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
