#!/usr/bin/env bash
# Build-stage helper: copies the shared libraries BINARY... need (ldd) into DEST, except the ones
# that must come from the runtime image's own glibc (libc, libm, ld.so, ...), so the runtime
# stage gets exactly the libraries the binaries link and nothing of the toolchain.
#   collect-runtime-libs.sh DEST BINARY...
set -euo pipefail
dest=$1; shift
mkdir -p "$dest"
for bin in "$@"; do
  # A system library named here is one a binary loads itself (dlopen): ship it too.
  case $bin in /usr/lib/*|/lib/*) echo "$bin" ;; esac
  ldd "$bin" | awk '/=> \// {print $3}'
done | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libresolv.so.*|ld-linux*|libgcc_s.so.*) continue ;;
  esac
  cp -L "$lib" "$dest/"
done
ls "$dest" >&2
