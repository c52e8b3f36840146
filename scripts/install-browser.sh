#!/usr/bin/env bash
# Installs Debian's Chromium and chromedriver for the browser tests, only when either is missing.
# The tests drive them over WebDriver (crates/kindly/tests/browser.rs); they run as root in CI.
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
