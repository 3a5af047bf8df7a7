#!/bin/sh
# firstrun/run.sh - proves that one `make` builds on a machine where the
# libraries are not installed yet (issue: the flags were read before
# scripts/deps.sh had installed anything, and the link failed).
#
# A copy of the tree is built against a PATH whose pkg-config, dpkg-query and
# dpkg say haze's libraries are missing until `apt-get install` runs; that
# apt-get only records the call (the packages really are on this machine,
# since make check runs after deps). Checked: the install is asked for, the
# build then succeeds with -j2 in one go, every program links; and when
# pkg-config still fails after the install, make stops with a message that
# names it, before compiling anything.
set -u
top=$(pwd)
tmp=$(mktemp -d /tmp/haze-firstrun.XXXXXX)
trap '[ -n "${HZ_KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
fail=0
bad() { echo "firstrun: FAIL: $*"; fail=1; }

# The tree as a fresh clone would have it (tracked files, as they are now).
mkdir "$tmp/src"
git ls-files -z -c -o --exclude-standard | (cd "$top" && xargs -0 cp --parents -t "$tmp/src") || { echo "firstrun: copy failed"; exit 1; }

mkdir "$tmp/shim"
libs="libevent libevent_pthreads libevent_openssl hiredis lmdb libmaxminddb inih jansson criterion libpcre2-8 libssl libcrypto liburing"
debs="libevent-dev libhiredis-dev liblmdb-dev libmaxminddb-dev libinih-dev libjansson-dev libcriterion-dev libpcre2-dev libssl-dev liburing-dev"
real_pc=$(command -v pkg-config)
real_dq=$(command -v dpkg-query)
real_dpkg=$(command -v dpkg)
# $tmp/installed exists once apt-get install has run; $tmp/broken names a
# library pkg-config keeps failing for (second case).
cat >"$tmp/shim/pkg-config" <<SH
#!/bin/sh
for a in "\$@"; do
    if [ ! -e "$tmp/installed" ]; then case " $libs " in *" \$a "*) exit 1 ;; esac; fi
    if [ -e "$tmp/broken" ] && [ "\$a" = "\$(cat "$tmp/broken")" ]; then echo "Package \$a was not found" >&2; exit 1; fi
done
exec "$real_pc" "\$@"
SH
cat >"$tmp/shim/dpkg-query" <<SH
#!/bin/sh
if [ ! -e "$tmp/installed" ]; then for a in "\$@"; do case " $debs " in *" \$a "*) exit 1 ;; esac; done; fi
exec "$real_dq" "\$@"
SH
cat >"$tmp/shim/dpkg" <<SH
#!/bin/sh
if [ ! -e "$tmp/installed" ] && [ "\${1:-}" = "-s" ]; then case " $debs " in *" \${2:-} "*) exit 1 ;; esac; fi
exec "$real_dpkg" "\$@"
SH
cat >"$tmp/shim/apt-get" <<SH
#!/bin/sh
case " \$* " in *" install "*) echo "\$*" >>"$tmp/apt.log"; touch "$tmp/installed" ;; esac
exit 0
SH
# deps.sh installs only as root; the test runs as anyone.
cat >"$tmp/shim/id" <<SH
#!/bin/sh
[ "\${1:-}" = "-u" ] && { echo 0; exit 0; }
exec /usr/bin/id "\$@"
SH
chmod +x "$tmp/shim"/*

# A new user's make: none of the calling make's variables (make check passes
# BUILD, BIN, SAN... down through MAKEFLAGS) reach it.
clean_env="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u BUILD -u BIN -u SAN -u OPT -u HARDEN"

echo "== first run: make -j2 on a machine without the libraries"
(cd "$tmp/src" && PATH="$tmp/shim:$PATH" $clean_env make -j2 all >"$tmp/build1.log" 2>&1)
rc=$?
[ $rc -eq 0 ] || { bad "make exited $rc"; tail -20 "$tmp/build1.log"; }
[ -s "$tmp/apt.log" ] || bad "apt-get install was never run"
grep -q "libevent-dev" "$tmp/apt.log" 2>/dev/null || bad "apt-get install did not ask for libevent-dev"
for p in collector aggregator dashboard geo ua; do
    [ -x "$tmp/src/bin/haze-$p" ] || bad "bin/haze-$p was not built"
done
grep -q "undefined reference" "$tmp/build1.log" && bad "the link had undefined references"
"$tmp/src/bin/haze-ua" </dev/null >/dev/null 2>&1 || bad "bin/haze-ua does not run"

echo "== first run: pkg-config still failing after the install stops make loudly"
rm -rf "$tmp/src/build" "$tmp/src/bin" "$tmp/installed"
echo jansson >"$tmp/broken"
(cd "$tmp/src" && PATH="$tmp/shim:$PATH" $clean_env make -j2 all >"$tmp/build2.log" 2>&1)
rc=$?
[ $rc -ne 0 ] || bad "make succeeded although pkg-config failed for jansson"
grep -q "config: pkg-config .*jansson" "$tmp/build2.log" || { bad "no message names the failing pkg-config"; tail -5 "$tmp/build2.log"; }
ls "$tmp/src/build/release/common/"*.o >/dev/null 2>&1 && bad "sources were compiled without library flags"

if [ $fail -eq 0 ]; then echo "firstrun: 2 passed, 0 failed"; else echo "firstrun: failed"; fi
exit $fail
