#!/usr/bin/env bash
# Debian packages the project needs: Chromium (browser tests), CJK fonts (charts, documents),
# LibreOffice Writer without its GUI (the work-summary document as PDF) and wrk (the intake
# bench's load generator: it takes a third of the Python client's CPU from the server's cores).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Read the font list once: `fc-list | grep -q` under pipefail fails when grep stops early.
fonts="$(fc-list 2>/dev/null || true)"
grep -qi "Noto Sans CJK" <<<"$fonts" || need+=(fonts-noto-cjk)
grep -qi "WenQuanYi Micro Hei" <<<"$fonts" || need+=(fonts-wqy-microhei)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
