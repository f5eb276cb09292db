#!/bin/sh
# build.sh builds csv2json-rust.wasm with the first rustc that has the
# standard library of WASI preview1 (the rust template's build.sh).
set -eu
cd "$(dirname "$0")"
for rustc in "${RUSTC:-}" rustc /usr/bin/rustc; do
	[ -n "$rustc" ] || continue
	sysroot=$("$rustc" --print sysroot 2>/dev/null) || continue
	for target in wasm32-wasip1 wasm32-wasi; do
		if [ -d "$sysroot/lib/rustlib/$target/lib" ]; then
			exec "$rustc" --edition 2021 --crate-name csv2json --crate-type cdylib --target "$target" \
				-C opt-level=s -C strip=symbols -o csv2json-rust.wasm src/lib.rs
		fi
	done
done
echo "build.sh: no rustc with a wasm32 WASI standard library (rustup target add wasm32-wasip1, or apt-get install rustc libstd-rust-dev-wasm32)" >&2
exit 127
