#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs lcf's build and test dependencies from Debian 12's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
# shellcheck disable=SC2046
$sudo apt-get install -y -qq --no-install-recommends $(cat tools/debian-packages.txt) >/dev/null
# Node.js runs the independent Noise and Ed25519 implementations in the tests.
# Keep a Node.js that is already installed (it may bundle its own npm).
if ! command -v npm >/dev/null 2>&1; then
	$sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "lcf dependencies installed"
