#!/bin/sh
# Installs the aicage-util binary for this machine from a GitHub release.
#
#   curl -fsSL https://github.com/aicage/aicage-image-util/releases/latest/download/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --version v1.2.3
#
# Run with --help for the options and environment variables. Exit codes: 0 installed,
# 1 download, checksum or install failure, 2 usage error or unsupported platform.
#
# Everything happens inside main(), called on the last line, so a download of this
# script cut short never runs half of it.

set -eu

PROG=aicage-util
DEFAULT_RELEASES_URL=https://github.com/aicage/aicage-image-util/releases

TMP_DIR=
STAGED=

usage() {
    cat <<EOF
Installs ${PROG} from ${DEFAULT_RELEASES_URL}.

Usage: install.sh [--version vX.Y.Z] [--help]
       curl -fsSL <url>/install.sh | sh -s -- [--version vX.Y.Z]

Options:
  --version V   install release V (1.2.3 or v1.2.3) instead of the latest one
  -h, --help    show this help

Environment:
  AICAGE_UTIL_INSTALL_DIR   where to install (default: \$HOME/.local/bin)
  AICAGE_UTIL_DOWNLOAD_URL  releases URL to download from (default: ${DEFAULT_RELEASES_URL})
  AICAGE_UTIL_OS            skip OS detection: linux or darwin
  AICAGE_UTIL_ARCH          skip CPU detection: x64 or arm64 (also x86_64, amd64, aarch64)
  AICAGE_UTIL_LIBC          skip libc detection on Linux: glibc or musl

Exit codes: 0 installed, 1 download, checksum or install failure,
2 usage error or unsupported platform.
EOF
}

say() {
    printf '%s\n' "$*"
}

warn() {
    printf '%s installer: warning: %s\n' "$PROG" "$*" >&2
}

# die CODE MESSAGE...
die() {
    code=$1
    shift
    printf '%s installer: error: %s\n' "$PROG" "$*" >&2
    exit "$code"
}

cleanup() {
    if [ -n "$STAGED" ]; then
        rm -f "$STAGED"
    fi
    if [ -n "$TMP_DIR" ]; then
        rm -rf "$TMP_DIR"
    fi
}

has() {
    command -v "$1" >/dev/null 2>&1
}

# --- platform ------------------------------------------------------------------

normalise_os() {
    case $1 in
        Linux | linux) echo linux ;;
        Darwin | darwin | macos | macOS) echo darwin ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT | windows)
            die 2 "Windows is not supported by this installer; download ${PROG}-windows-x64.exe from ${RELEASES_URL} instead" ;;
        *) die 2 "unsupported operating system: $1 (${PROG} is built for Linux and macOS)" ;;
    esac
}

normalise_arch() {
    case $1 in
        x86_64 | amd64 | x64) echo x64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) die 2 "unsupported CPU architecture: $1 (${PROG} is built for x86_64 and arm64)" ;;
    esac
}

detect_os() {
    if [ -n "${AICAGE_UTIL_OS:-}" ]; then
        normalise_os "$AICAGE_UTIL_OS"
    else
        normalise_os "$(uname -s)"
    fi
}

# detect_arch OS
detect_arch() {
    if [ -n "${AICAGE_UTIL_ARCH:-}" ]; then
        normalise_arch "$AICAGE_UTIL_ARCH"
        return
    fi
    arch=$(normalise_arch "$(uname -m)")
    # A shell under Rosetta 2 sees x86_64 on an Apple silicon Mac: take the native build.
    if [ "$1" = darwin ] && [ "$arch" = x64 ] &&
        [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
        arch=arm64
    fi
    echo "$arch"
}

detect_libc() {
    case ${AICAGE_UTIL_LIBC:-} in
        glibc | gnu) echo glibc; return ;;
        musl) echo musl; return ;;
        '') ;;
        *) die 2 "AICAGE_UTIL_LIBC must be glibc or musl, not: $AICAGE_UTIL_LIBC" ;;
    esac
    # musl's ldd names itself; glibc's prints "GNU libc" or "GLIBC".
    if has ldd; then
        if ldd --version 2>&1 | grep -qi musl; then
            echo musl
            return
        fi
        if ldd --version 2>&1 | grep -qiE 'glibc|gnu libc'; then
            echo glibc
            return
        fi
    fi
    for loader in /lib/ld-musl-*; do
        if [ -e "$loader" ]; then
            echo musl
            return
        fi
    done
    echo glibc
}

# --- downloads and checksums ---------------------------------------------------

# fetch URL FILE
fetch() {
    if has curl; then
        curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"
    elif has wget; then
        wget -q -O "$2" "$1"
    else
        die 1 "neither curl nor wget is installed; install one of them and run this again"
    fi
}

# sha256_of FILE: prints the hex digest
sha256_of() {
    if has sha256sum; then
        sum=$(sha256sum "$1")
    elif has shasum; then
        sum=$(shasum -a 256 "$1")
    elif has openssl; then
        sum=$(openssl dgst -sha256 "$1" | sed 's/^.*= *//')
    else
        die 1 "no SHA-256 tool found (sha256sum, shasum or openssl); cannot verify the download"
    fi
    printf '%s\n' "${sum%% *}" | tr 'A-F' 'a-f'
}

# expected_sha256 SUMS_FILE ASSET: the digest listed for ASSET, or nothing
expected_sha256() {
    # Lines are "<hex>  <name>", or "<hex> *<name>" as sha256sum -b writes them.
    awk -v name="$2" '$2 == name || $2 == ("*" name) { print tolower($1); exit }' "$1"
}

# --- main ----------------------------------------------------------------------

main() {
    version=latest
    while [ $# -gt 0 ]; do
        case $1 in
            -h | --help)
                usage
                exit 0
                ;;
            --version)
                [ $# -ge 2 ] || die 2 "--version needs a value, e.g. --version v1.2.3"
                version=$2
                shift 2
                ;;
            --version=*)
                version=${1#--version=}
                shift
                ;;
            *)
                die 2 "unknown argument: $1 (see --help)"
                ;;
        esac
    done

    RELEASES_URL=${AICAGE_UTIL_DOWNLOAD_URL:-$DEFAULT_RELEASES_URL}
    RELEASES_URL=${RELEASES_URL%/}

    case $version in
        latest)
            base_url=$RELEASES_URL/latest/download
            release="the latest release"
            ;;
        '' | *[!0-9A-Za-z.-]* | v | [!v0-9]* | v[!0-9]*)
            die 2 "not a release version: '$version' (expected something like v1.2.3)"
            ;;
        *)
            version=v${version#v}
            base_url=$RELEASES_URL/download/$version
            release="release $version"
            ;;
    esac

    os=$(detect_os)
    arch=$(detect_arch "$os")
    variant=$os-$arch
    libc=
    if [ "$os" = linux ]; then
        libc=$(detect_libc)
    fi
    if [ "$libc" = musl ]; then
        [ "$arch" = x64 ] || die 2 "no build for Linux $arch with musl libc; builds exist for x64 only"
        variant=$variant-musl
    fi
    asset=$PROG-$variant

    if [ -n "${AICAGE_UTIL_INSTALL_DIR:-}" ]; then
        install_dir=$AICAGE_UTIL_INSTALL_DIR
    else
        [ -n "${HOME:-}" ] || die 2 "HOME is not set; set AICAGE_UTIL_INSTALL_DIR to choose where to install"
        install_dir=$HOME/.local/bin
    fi

    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP_DIR=$(mktemp -d 2>/dev/null || mktemp -d -t aicage-util) ||
        die 1 "cannot create a temporary directory"

    say "Installing $PROG $version ($variant) into $install_dir"

    fetch "$base_url/SHA256SUMS" "$TMP_DIR/SHA256SUMS" ||
        die 1 "download failed: $base_url/SHA256SUMS (does $release exist and carry binaries?)"
    want=$(expected_sha256 "$TMP_DIR/SHA256SUMS" "$asset")
    case $want in
        '') die 1 "SHA256SUMS of $release lists no $asset; refusing to install" ;;
        *[!0-9a-f]*) die 1 "SHA256SUMS of $release has a malformed line for $asset; refusing to install" ;;
    esac
    [ ${#want} -eq 64 ] ||
        die 1 "SHA256SUMS of $release has a malformed line for $asset; refusing to install"

    fetch "$base_url/$asset" "$TMP_DIR/$asset" ||
        die 1 "download failed: $base_url/$asset"
    got=$(sha256_of "$TMP_DIR/$asset")
    [ "$got" = "$want" ] ||
        die 1 "checksum mismatch for $asset (expected $want, got $got); the download is corrupt or was tampered with, nothing was installed"
    say "Verified SHA-256 of $asset"

    mkdir -p "$install_dir" ||
        die 1 "cannot create $install_dir; set AICAGE_UTIL_INSTALL_DIR to a directory you can write"
    # Stage next to the target so the final mv is a rename within one file system, and
    # run it once there: a binary that cannot start never replaces a working one.
    STAGED=$install_dir/.$PROG.$$.tmp
    cp "$TMP_DIR/$asset" "$STAGED" ||
        die 1 "cannot write to $install_dir; set AICAGE_UTIL_INSTALL_DIR to a directory you can write"
    chmod 755 "$STAGED" || die 1 "cannot make $STAGED executable"
    if ! installed_version=$("$STAGED" --version 2>&1); then
        die 1 "the downloaded $asset does not run on this machine: $installed_version"
    fi
    mv -f "$STAGED" "$install_dir/$PROG" ||
        die 1 "cannot move $PROG into $install_dir"
    STAGED=

    say "Installed $install_dir/$PROG"
    say "$installed_version"

    case ":${PATH:-}:" in
        *":$install_dir:"* | *":$install_dir/:"*)
            found=$(command -v "$PROG" 2>/dev/null || true)
            if [ -n "$found" ] && [ "$found" != "$install_dir/$PROG" ]; then
                warn "$found comes first on your PATH and shadows the one just installed"
            fi
            ;;
        *)
            say ""
            say "$install_dir is not on your PATH. Add it, e.g. in ~/.profile or your shell's rc file:"
            say "  export PATH=\"$install_dir:\$PATH\""
            ;;
    esac
}

main "$@"
