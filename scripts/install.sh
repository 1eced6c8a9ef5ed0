#!/bin/sh
# Installs the aicage-util binary for this machine from a GitHub release.
#
#   curl -fsSL https://github.com/aicage/aicage-image-util/releases/latest/download/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --version v1.2.3
#
# Run with --help for the options and environment variables. Exit codes: 0 installed,
# 1 download, signature, checksum or install failure, 2 usage error or unsupported platform.
#
# SHA256SUMS is signed (SHA256SUMS.minisig, minisign's format) with the release key below;
# scripts/release.ts writes the key of the release into the copy it publishes. The signature
# is checked with minisign, or else with OpenSSL 1.1.1+ (Ed25519 and BLAKE2b-512); with
# neither, one line says that only the checksum was verified, and --require-signature (or
# AICAGE_UTIL_REQUIRE_SIGNATURE=1) turns that into a refusal.
#
# Everything happens inside main(), called on the last line, so a download of this
# script cut short never runs half of it.

set -eu

PROG=aicage-util
DEFAULT_RELEASES_URL=https://github.com/aicage/aicage-image-util/releases
# The minisign public key that signs SHA256SUMS (keys/release.pub in the repository).
RELEASE_PUBLIC_KEY=RWTYe0Mss5ulGKjPpn8nqMdEzKveR/wOVsEPQfzLf0lCjeKk5pZGsB9X
# Largest files accepted, in bytes: SHA256SUMS, its signature, a binary.
MAX_SUMS_BYTES=1048576
MAX_SIGNATURE_BYTES=4096
MAX_BINARY_BYTES=536870912

TMP_DIR=
STAGED=

usage() {
    cat <<EOF
Installs ${PROG} from ${DEFAULT_RELEASES_URL}.

Usage: install.sh [--version vX.Y.Z] [--require-signature] [--help]
       curl -fsSL <url>/install.sh | sh -s -- [--version vX.Y.Z]

Options:
  --version V            install release V (1.2.3 or v1.2.3) instead of the latest one
  --require-signature    refuse to install when the signature of SHA256SUMS cannot be
                         checked (neither minisign nor OpenSSL 1.1.1+ is installed)
  -h, --help             show this help

Environment:
  AICAGE_UTIL_INSTALL_DIR   where to install (default: \$HOME/.local/bin)
  AICAGE_UTIL_DOWNLOAD_URL  releases URL to download from (default: ${DEFAULT_RELEASES_URL})
  AICAGE_UTIL_OS            skip OS detection: linux or darwin
  AICAGE_UTIL_ARCH          skip CPU detection: x64 or arm64 (also x86_64, amd64, aarch64)
  AICAGE_UTIL_LIBC          skip libc detection on Linux: glibc or musl
  AICAGE_UTIL_REQUIRE_SIGNATURE=1   the same as --require-signature

Exit codes: 0 installed, 1 download, signature, checksum or install failure,
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
            die 2 "there is no Windows binary: on Windows, run this installer inside WSL2, where the Linux binary reaches Docker Desktop's engine through its WSL integration" ;;
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

# fetch URL FILE MAX_BYTES: fails on an HTTP error, a connection that takes over 30 s or
# stalls for 60 s, leaving curl's reason in FETCH_ERROR; a file over MAX_BYTES is refused (and
# not downloaded further).
fetch() {
    rm -f "$2" "$2.failed" "$2.err"
    FETCH_ERROR=
    if has curl; then
        if ! curl --fail --silent --show-error --location --retry 3 --connect-timeout 30 \
            --speed-limit 1 --speed-time 60 --max-filesize "$3" --output "$2" "$1" 2>"$2.err"; then
            FETCH_ERROR=$(head -n 1 "$2.err")
            rm -f "$2.err"
            return 1
        fi
        rm -f "$2.err"
    elif has wget; then
        # wget has no size limit of its own: head stops reading one byte past it.
        { wget -q --timeout=60 --tries=3 -O - "$1" || echo failed >"$2.failed"; } |
            head -c "$(($3 + 1))" >"$2"
    else
        die 1 "neither curl nor wget is installed; install one of them and run this again"
    fi
    [ "$(wc -c <"$2")" -le "$3" ] ||
        die 1 "$1 is larger than $3 bytes, more than the file it should be; refusing it"
    if [ -e "$2.failed" ]; then
        rm -f "$2.failed"
        FETCH_ERROR="wget failed"
        return 1
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

# --- the signature of SHA256SUMS ----------------------------------------------

# b64decode: base64 on stdin to bytes on stdout (openssl's decoder: the callers have openssl)
b64decode() {
    openssl base64 -d -A
}

# hex_of FILE: the bytes of FILE in lower-case hex, one line
hex_of() {
    od -An -v -tx1 "$1" | tr -d ' \n'
}

# openssl_gap: prints why openssl cannot check the signature, or nothing when it can
openssl_gap() {
    if ! has openssl; then
        echo "neither minisign nor openssl is installed"
        return
    fi
    ossl=$(openssl version 2>/dev/null || true)
    case $ossl in
        "OpenSSL 1.1.1"* | "OpenSSL "[3-9].* | "OpenSSL "[1-9][0-9].*) ;;
        *) echo "minisign is not installed and openssl is ${ossl:-unknown}, not OpenSSL 1.1.1 or newer (Ed25519 and BLAKE2b-512)" ;;
    esac
}

# verify_with_openssl SUMS SIG: checks a prehashed ("ED") minisign signature as minisign -V does;
# prints why it fails, or nothing
verify_with_openssl() {
    d=$TMP_DIR/sig
    mkdir -p "$d"
    sed -n 2p "$2" | tr -d '\r' | b64decode >"$d/sig.bin" 2>/dev/null || true
    trusted=$(sed -n 3p "$2" | tr -d '\r')
    sed -n 4p "$2" | tr -d '\r' | b64decode >"$d/global.bin" 2>/dev/null || true
    printf '%s' "$RELEASE_PUBLIC_KEY" | b64decode >"$d/key.bin" 2>/dev/null || true
    case $trusted in "trusted comment: "*) ;; *) echo "it is not a minisign signature (no trusted comment)"; return ;; esac
    if [ "$(wc -c <"$d/sig.bin")" -ne 74 ] || [ "$(wc -c <"$d/global.bin")" -ne 64 ] ||
        [ "$(head -c 2 "$d/sig.bin")" != ED ]; then
        echo "it is not a prehashed Ed25519 minisign signature"
        return
    fi
    dd if="$d/sig.bin" of="$d/sig-id.bin" bs=1 skip=2 count=8 2>/dev/null
    dd if="$d/key.bin" of="$d/key-id.bin" bs=1 skip=2 count=8 2>/dev/null
    if [ "$(hex_of "$d/sig-id.bin")" != "$(hex_of "$d/key-id.bin")" ]; then
        echo "it was made by another key than the release key"
        return
    fi
    tail -c 64 "$d/sig.bin" >"$d/ed.sig"
    # The Ed25519 public key as DER (RFC 8410): a fixed 12-byte prefix, then the 32-byte key.
    { printf '\060\052\060\005\006\003\053\145\160\003\041\000'; tail -c 32 "$d/key.bin"; } >"$d/key.der"
    openssl dgst -blake2b512 -binary "$1" >"$d/sums.b2b" || { echo "openssl cannot compute BLAKE2b-512"; return; }
    { cat "$d/ed.sig"; printf '%s' "${trusted#trusted comment: }"; } >"$d/global.msg"
    for pair in "sums.b2b ed.sig" "global.msg global.bin"; do
        # shellcheck disable=SC2086 # two words on purpose: message and signature
        set -- $pair
        if ! openssl pkeyutl -verify -pubin -keyform DER -inkey "$d/key.der" -rawin \
            -in "$d/$1" -sigfile "$d/$2" >/dev/null 2>&1; then
            echo "the signature does not match the file"
            return
        fi
    done
}

# check_signature SUMS SIG RELEASE: verifies the signature, or says why it could not; exits on a bad one
check_signature() {
    if has minisign; then
        if ! why=$(minisign -Vm "$1" -x "$2" -P "$RELEASE_PUBLIC_KEY" 2>&1); then
            die 1 "the signature of SHA256SUMS of $3 is not valid (minisign: $(printf '%s' "$why" | tr '\n' ' ')); the release was tampered with or is not ours, nothing was installed"
        fi
        say "Verified the signature of SHA256SUMS with minisign"
        return
    fi
    gap=$(openssl_gap)
    if [ -z "$gap" ]; then
        why=$(verify_with_openssl "$1" "$2")
        [ -z "$why" ] ||
            die 1 "the signature of SHA256SUMS of $3 is not valid ($why, checked with openssl); the release was tampered with or is not ours, nothing was installed"
        say "Verified the signature of SHA256SUMS with openssl"
        return
    fi
    if [ "$REQUIRE_SIGNATURE" = 1 ]; then
        die 1 "cannot verify the signature of SHA256SUMS: $gap; install minisign or OpenSSL 1.1.1+, nothing was installed (signature required)"
    fi
    warn "only the SHA-256 checksum was verified, not the signature of SHA256SUMS: $gap (install minisign or OpenSSL 1.1.1+ to verify it, --require-signature to insist)"
}

# --- main ----------------------------------------------------------------------

main() {
    version=latest
    case ${AICAGE_UTIL_REQUIRE_SIGNATURE:-} in
        '' | 0) REQUIRE_SIGNATURE=0 ;;
        1) REQUIRE_SIGNATURE=1 ;;
        *) die 2 "AICAGE_UTIL_REQUIRE_SIGNATURE must be 1 or 0, not: $AICAGE_UTIL_REQUIRE_SIGNATURE" ;;
    esac
    while [ $# -gt 0 ]; do
        case $1 in
            --require-signature)
                REQUIRE_SIGNATURE=1
                shift
                ;;
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

    fetch "$base_url/SHA256SUMS" "$TMP_DIR/SHA256SUMS" "$MAX_SUMS_BYTES" ||
        die 1 "download failed: $base_url/SHA256SUMS ($FETCH_ERROR; does $release exist and carry binaries?)"
    fetch "$base_url/SHA256SUMS.minisig" "$TMP_DIR/SHA256SUMS.minisig" "$MAX_SIGNATURE_BYTES" ||
        die 1 "download failed: $base_url/SHA256SUMS.minisig ($FETCH_ERROR; $release is not signed, or the download broke off); nothing was installed"
    check_signature "$TMP_DIR/SHA256SUMS" "$TMP_DIR/SHA256SUMS.minisig" "$release"
    want=$(expected_sha256 "$TMP_DIR/SHA256SUMS" "$asset")
    case $want in
        '') die 1 "SHA256SUMS of $release lists no $asset; refusing to install" ;;
        *[!0-9a-f]*) die 1 "SHA256SUMS of $release has a malformed line for $asset; refusing to install" ;;
    esac
    [ ${#want} -eq 64 ] ||
        die 1 "SHA256SUMS of $release has a malformed line for $asset; refusing to install"

    fetch "$base_url/$asset" "$TMP_DIR/$asset" "$MAX_BINARY_BYTES" ||
        die 1 "download failed: $base_url/$asset ($FETCH_ERROR)"
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
