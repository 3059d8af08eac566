#!/usr/bin/env bash
# Install headless Chromium for `python -m python_udfs.report --screenshot` and
# the browser tests in tests/python/test_report_browser.py (they skip without it).
#
# Idempotent: does nothing when a Chromium is already there. Never fails the
# caller: when it cannot install (not root and no password-less sudo, no
# apt-get, no package), it says why and how, and exits 0.
#
# Installs Debian's `chromium` and `fonts-dejavu-core` (a readable font for
# screenshots). No chromedriver is needed: the report drives Chromium over the
# DevTools protocol on a pipe. Set CV_CHROMIUM to use another Chromium/Chrome.
set -u

for candidate in "${CV_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser \
    /usr/bin/google-chrome; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        echo "install_browser: $candidate is already installed" \
            "($("$candidate" --version 2>/dev/null | head -n 1))"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: no apt-get here; install Chromium with your package" \
        "manager or set CV_CHROMIUM=/path/to/chrome (browser tests skip until then)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_browser: not root; run" \
            "'sudo apt-get install -y chromium fonts-dejavu-core'" \
            "(browser tests skip until then)"
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install_browser: apt-get install chromium fonts-dejavu-core"
if ! $SUDO apt-get update -qq; then
    echo "install_browser: apt-get update failed; Chromium not installed" \
        "(browser tests skip)"
    exit 0
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null; then
    echo "install_browser: apt-get install chromium failed; Chromium not" \
        "installed (browser tests skip)"
    exit 0
fi
echo "install_browser: installed $(chromium --version 2>/dev/null | head -n 1)"
