#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# completion_test.sh SNAPMAPCTL: the bash completion of snapmapctl, run on
# the host: no module is needed.  The completion is sourced in a bash
# whose PATH starts with a fake snapmapctl: it answers `ls --json` with
# known maps and hands everything else (--help) to SNAPMAPCTL, so that
# the commands and options completed are the real tool's.  Prints KTAP;
# exits non-zero if a case failed.

set -u

real=$(realpath "${1:?usage: $0 SNAPMAPCTL}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/bin" "$tmp/files"
cat >"$tmp/bin/snapmapctl" <<FAKE
#!/bin/sh
if [ "\$*" = "ls --json" ]; then
	# As ls --json prints it, names with every character a name may hold.
	echo '[{"name":"alpha","uid":0,"gid":0,"owner":"root","group":"root","mode":"0600","entries":1,"bytes":64},{"name":"b.e-t_a9","uid":0,"gid":0,"owner":null,"group":null,"mode":"0640","entries":null,"bytes":null}]'
	exit 0
fi
exec "$real" "\$@"
FAKE
chmod +x "$tmp/bin/snapmapctl"
touch "$tmp/files/one.smap" "$tmp/files/two.txn"
PATH=$tmp/bin:$PATH
cd "$tmp/files" || exit 1
# shellcheck source=snapmapctl
. "$here/snapmapctl"

n=0
failed=0
cases=22
echo "KTAP version 1"
echo "1..$cases"

# expect NAME "WANT" WORD...: completing the last WORD gives exactly WANT,
# the candidates sorted and joined by spaces.
expect() {
	local name=$1 want=$2 got

	shift 2
	COMP_WORDS=(snapmapctl "$@")
	COMP_CWORD=$(($# ))
	COMPREPLY=()
	_snapmapctl
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n $name"
	else
		echo "# want: '$want'"
		echo "# got:  '$got'"
		echo "not ok $n $name"
		failed=$((failed + 1))
	fi
}

# What complete -F registered.
n=$((n + 1))
if complete -p snapmapctl | grep -q -- '-F _snapmapctl snapmapctl$'; then
	echo "ok $n registered for snapmapctl"
else
	echo "not ok $n registered for snapmapctl"
	failed=$((failed + 1))
fi
expect "commands" "batch clear clone create del dump get help info load ls mget mirror put rm save txn version watch" ""
expect "commands by prefix" "mget mirror" "m"
expect "commands after a global option" "dump" -j "du"
expect "global options" "--help --json --pretty --quiet --version" --
expect "map names" "alpha b.e-t_a9" get ""
expect "map names by prefix" "b.e-t_a9" dump "b"
expect "no key completion" "" get alpha ""
expect "options of a command" "--help --json --pretty --quiet --versions" clear "--"
expect "options of a command by prefix" "--if-version" put "--if"
expect "second map of mirror" "alpha b.e-t_a9" mirror alpha ""
expect "no name for a new map" "" create ""
expect "file of load" "one.smap two.txn" load ""
expect "--into takes a map" "alpha" load --into "a"
expect "an option's argument is skipped" "one.smap two.txn" txn --hex alpha ""
expect "map after an option with an argument" "alpha b.e-t_a9" put --if-version 7 ""
expect "file of batch" "two.txn" batch "t"
expect "help takes a command" "load ls" help "l"
expect "rm takes maps" "alpha b.e-t_a9" rm alpha ""
expect "options of watch by prefix" "--wakeup-bytes --wakeup-ms" watch "--wak"
expect "map after --wakeup-bytes N" "alpha b.e-t_a9" watch --wakeup-bytes 4K ""
expect "map after --wakeup-ms MS" "alpha" watch --wakeup-bytes 4K --wakeup-ms 50 "a"

echo "# completion: $((n - failed)) passed, $failed failed"
[ "$n" -eq "$cases" ] || { echo "# planned $cases, ran $n"; exit 1; }
[ "$failed" -eq 0 ]
