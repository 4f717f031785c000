#!/usr/bin/env bash
# CI: podman and podman-compose, and a Debian bookworm + Python 3.11 base image built here (no
# image registry is reachable), for the container and compose tests (tests/deploy/). Cached: an
# existing image is kept. The compose test builds its PostgreSQL and Caddy images on this base
# (.ci/compose.ci.yaml), with apt inside the build using the Debian mirror of its sources.list.
# Prints nothing on success but what apt and debootstrap print.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${CASEBOT_TEST_BASE_IMAGE:-localhost/debian-python:bookworm}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/.ci/containers.conf}"

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v podman-compose >/dev/null 2>&1 || need+=(podman-compose)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

if podman image exists "$image"; then
  exit 0
fi
rootfs="$(mktemp -d /tmp/casebot-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | podman import --change 'CMD ["python3"]' - "$image" >/dev/null
