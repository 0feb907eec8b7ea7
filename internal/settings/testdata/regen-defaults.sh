#!/bin/sh
# Regenerate ../defaults.conf and ../sections.conf from the installed
# Debian Dovecot (dovecot-core, dovecot-imapd, dovecot-pop3d, dovecot-lmtpd,
# dovecot-sieve, dovecot-managesieved), then re-record the goldens:
#   go test ./internal/settings -run 'TestDoveconfOracle|TestGoldenNonDefault' -update
set -eu
cd "$(dirname "$0")/.."
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
: > "$t/empty.conf"
{
	echo "# doveconf -a of Debian Dovecot $(dpkg-query -W -f '${Version}' dovecot-core) with an empty configuration:"
	echo "# the defaults roost starts from. Regenerate with internal/settings/testdata/regen-defaults.sh."
	doveconf -a -c "$t/empty.conf" | grep -v '^#' | sed 's/ $//'
} > defaults.conf
printf 'namespace x {\n  mailbox m {\n  }\n}\npassdb {\n  driver = d\n}\nuserdb {\n  driver = d\n}\nservice s {\n  unix_listener u {\n  }\n  inet_listener i {\n  }\n  fifo_listener f {\n  }\n}\n' > "$t/sec.conf"
doveconf -a -c "$t/sec.conf" > "$t/sec.txt"
{
	echo "# Defaults of repeatable sections, from doveconf -a with one of each defined."
	awk '/^namespace x \{/,/^}/' "$t/sec.txt" | sed 's/^namespace x {/namespace {/' |
		awk '/^  mailbox m/{s=1} s&&/^  }/{s=0;next} !s'
	awk '/^  mailbox m \{/,/^  }/' "$t/sec.txt" | sed 's/^  //; s/^mailbox m {/mailbox {/'
	awk '/^(passdb|userdb) \{/,/^}/' "$t/sec.txt" | sed 's/driver = d$/driver =/'
	awk '/^service s \{/,/^}/' "$t/sec.txt" | awk '/^  (unix|inet|fifo)_listener/{s=1} s&&/^  }/{s=0;next} !s' |
		sed 's/^service s {/service {/'
	awk '/^service s \{/,/^}/' "$t/sec.txt" | awk '/^  (unix|inet|fifo)_listener/,/^  }/' |
		sed 's/^  //; s/_listener [a-z]* {/_listener {/'
} | sed 's/ $//' > sections.conf
