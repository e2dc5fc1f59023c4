#!/usr/bin/env bash
# Installs everything Saraban needs on a fresh Debian 12/13 machine: system packages,
# a Python >= 3.12 virtual environment in .venv, and the locked Python dependencies
# (fonts included: they come from PyPI as fontpkg-sarabun).
# Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: poppler-utils (pdftotext/pdftoppm for PDF checks), qpdf (PDF structure checks),
# softhsm2 (the PKCS#11 token that holds organisation seal keys on a server without an HSM),
# dovecot-imapd (the e-mail channel's tests start their own IMAP server on loopback, with a config of
# their own; no system-wide dovecot is started, see the install below), and Thai OCR of scans:
# tesseract-ocr with its Thai model, Ghostscript (OCRmyPDF's PDF/A fallback), unpaper (its page cleaning).
SYSTEM_PACKAGES=(poppler-utils qpdf softhsm2 dovecot-imapd tesseract-ocr tesseract-ocr-tha ghostscript unpaper)
# The test suite drives Debian's Chromium with Playwright (no browser download), runs a deployment
# 10 minutes ahead with libfaketime, and reads exchange envelopes with unzip and openssl.
if [[ "${SARABAN_WITH_BROWSER:-0}" == 1 ]]; then
  SYSTEM_PACKAGES+=(chromium fonts-thai-tlwg faketime unzip openssl)
fi
command -v npm >/dev/null 2>&1 || SYSTEM_PACKAGES+=(nodejs npm)
missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "saraban: installing system packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  # A package's postinst must not start a system service (dovecot would take ports 143/993): while
  # installing, a policy-rc.d that answers 101 ("action forbidden") tells invoke-rc.d and
  # deb-systemd-invoke not to start anything. One already there (as in containers) is left alone.
  policy_rc=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    policy_rc=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rc" >/dev/null
    $SUDO chmod 755 "$policy_rc"
    trap '$SUDO rm -f "$policy_rc"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n $policy_rc ]]; then $SUDO rm -f "$policy_rc"; trap - EXIT; fi
  # Nor should it start at the next boot: the tests run their own dovecot, and nothing else needs one.
  if [[ " ${missing[*]} " == *" dovecot-imapd "* ]] && [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
  fi
fi

# Python >= 3.12: the first of python3.13, python3.12, python3 (or a pyenv install) that runs.
find_python() {
  local c
  for c in python3.13 python3.12 python3 \
           "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
           /usr/local/bin/python3.13 /usr/local/bin/python3.12; do
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  PY=$(find_python) || { echo "saraban: Python >= 3.12 not found / ไม่พบ Python 3.12 ขึ้นไป" >&2; exit 1; }
  if ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    v=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "python${v}-venv" >/dev/null
  fi
  rm -rf .venv
  "$PY" -m venv .venv
fi
[[ -x .venv/bin/uv ]] || .venv/bin/python -m pip install -q --disable-pip-version-check 'uv==0.13.9'
# uv installs exactly what uv.lock pins, into .venv.
UV_PROJECT_ENVIRONMENT=.venv .venv/bin/uv sync --frozen --quiet --python .venv/bin/python

# Front-end assets from the npm registry, pinned by package-lock.json, copied into static/vendor
# (never committed).
FRONTEND=src/saraban/web/frontend
VENDOR=src/saraban/web/static/vendor
if [[ ! -f $VENDOR/htmx.min.js || $FRONTEND/package-lock.json -nt $VENDOR/htmx.min.js ]]; then
  npm ci --prefix "$FRONTEND" --silent --no-audit --no-fund
  mkdir -p "$VENDOR"
  cp "$FRONTEND/node_modules/htmx.org/dist/htmx.min.js" "$VENDOR/htmx.min.js"
fi
