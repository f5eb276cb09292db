#!/bin/sh
# Writes the files the overlay's secretGenerator reads, each a fresh random
# value without a trailing newline, readable by you only. A file that exists
# already is kept, so running it again changes nothing. Hex everywhere: it is
# valid as HEARTH_ADMIN_KEY (64 characters), as HEARTH_SECRETS_KEY (32 bytes),
# as a MinIO password and as a NATS password (nats.conf reads $NATS_PASSWORD
# as a config value, which letters and digits keep a plain string).
#
# Keep a copy of secrets-key outside the cluster: without it the stored
# secrets cannot be opened (docs/security.md).
set -eu
cd "$(dirname "$0")"
umask 077

hex() { # hex BYTES: that many random bytes as hex
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

write() { # write FILE VALUE
	if [ -s "$1" ]; then
		echo "keeping $1"
		return
	fi
	printf '%s' "$2" >"$1"
	echo "wrote $1"
}

write admin-key "$(hex 32)"
write secrets-key "$(hex 32)"
write nats-password "$(hex 24)"
write s3-access-key hearth
write s3-secret-key "$(hex 24)"
