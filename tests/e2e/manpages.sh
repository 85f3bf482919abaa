# Every manual page is lint-clean, and every command and exit code is documented.
. "$(dirname "$0")/lib.sh"
man=$IEP_SRC/man

expect 0 "mandoc -T lint is clean" -- mandoc -T lint -W warning "$man"/*.[157]
assert "no lint output" -- test ! -s "$T/.out"
for tool in "$IEP_SRC"/tools/iep-*.cpp; do
  name=$(basename "$tool" .cpp)
  assert "$name has a manual page" -- test -f "$man/$name.1"
done
assert "the package format has a manual page" -- test -f "$man/iep-package.5"
# Every exit code of error.h appears in iep(7) with its number.
while read -r code name; do
  assert "iep.7 documents exit $code ($name)" -- grep -qx ".It $code Pq $name" "$man/iep.7"
done < <(sed -n 's/^ *\([a-z_]*\) = \([0-9]*\),.*/\2 \1/p' "$IEP_SRC/lib/include/iep/core/error.h")
finish
