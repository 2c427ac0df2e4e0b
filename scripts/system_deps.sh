#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python. Installs the missing ones when running as root
# with apt-get (CI); otherwise says in one line what is missing and which tests will be skipped.
# Quiet and fast (no apt call) when everything is present.
#   SYSTEM_DEPS_PACKAGES="a b"  check these packages instead of the list below
#   SYSTEM_DEPS_DRY_RUN=1       print the apt-get commands instead of running them
set -euo pipefail

# To add a package: list it here, say which tests need it, and how to see it is there (present()).
DEFAULT_PACKAGES=(postgresql chromium poppler-utils)
declare -A NEEDED_BY=(
    [postgresql]="the store's PostgreSQL backend tests"
    [chromium]="the Voila apps' browser tests (tests/serve/test_apps_browser.py)"
    [poppler-utils]="the checks that render PDF reports to images (pdftoppm)"
)
read -r -a PACKAGES <<<"${SYSTEM_DEPS_PACKAGES:-${DEFAULT_PACKAGES[*]}}"

present() {
    # Look for what the tests use, not only the package: binaries may come from elsewhere.
    case "$1" in
        postgresql) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null ;;
        chromium) command -v chromium >/dev/null ;;
        poppler-utils) command -v pdftoppm >/dev/null ;;
        *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" ;;
    esac
}

missing=()
for package in "${PACKAGES[@]}"; do
    present "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

skipped() {
    local out="" package
    for package in "$@"; do out+="${out:+; }${NEEDED_BY[$package]:-the tests that need $package}"; done
    echo "$out"
}

if [ "$EUID" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "system_deps: missing Debian package(s) ${missing[*]} (installed only when run as root with" \
        "apt-get); skipping $(skipped "${missing[@]}")"
    exit 0
fi

run() {
    if [ -n "${SYSTEM_DEPS_DRY_RUN:-}" ]; then
        echo "system_deps (dry run): $*"
    else
        "$@"
    fi
}

echo "system_deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Output only on failure. A failed install does not stop the test command: the tests that need the
# package skip with their reason, which pytest's summary shows.
if ! { run apt-get update -qq &&
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$log" 2>&1; then
    cat "$log" >&2
    echo "system_deps: could not install ${missing[*]}; skipping $(skipped "${missing[@]}")" >&2
    exit 0
fi
[ -n "${SYSTEM_DEPS_DRY_RUN:-}" ] && cat "$log"
exit 0
