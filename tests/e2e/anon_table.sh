# lib/src/anon/anon_table.cpp is what scripts/gen-anon-table.py makes from the
# standard in ../shared/dicom-standard, and says what the standard says.
. "$(dirname "$0")/lib.sh"

SHARED="$IEP_SRC/../shared/dicom-standard"
GEN="$IEP_SRC/scripts/gen-anon-table.py"
TABLE="$IEP_SRC/lib/src/anon/anon_table.cpp"
XML=part15-2023b.xml
JSON=confidentiality-profile-attributes-2024b.json

# Without the standard there is nothing to check against: that is a failure.
if [ ! -f "$SHARED/$XML" ] || [ ! -f "$SHARED/$JSON" ]; then
  bad "the DICOM standard is missing: $SHARED/{$XML,$JSON}"
  finish
  exit 1
fi

# The committed source cannot drift from the script.
expect 0 "regenerate the table" -- /usr/bin/python3 "$GEN" --shared "$SHARED" -o "$T/gen.cpp"
assert "committed anon_table.cpp is the generator's output, byte for byte" -- cmp "$T/gen.cpp" "$TABLE"
expect 0 "regenerate again" -- /usr/bin/python3 "$GEN" --shared "$SHARED" -o "$T/gen2.cpp"
assert "generation is deterministic" -- cmp -s "$T/gen.cpp" "$T/gen2.cpp"
if command -v clang-format >/dev/null; then
  assert "generated file is clang-format clean" -- \
    clang-format --dry-run -Werror --style="file:$IEP_SRC/.clang-format" "$TABLE"
fi

# The provenance names the real inputs.
for f in "$XML" "$JSON"; do
  sum=$(sha256sum "$SHARED/$f" | cut -d' ' -f1)
  assert "header gives the SHA-256 of $f" -- grep -q "^//     $sum\$" "$TABLE"
done
assert "kTableProvenance names both editions" -- \
  grep -A3 'kTableProvenance =' "$TABLE" | grep -q '2024b.*2023b'

# An independent reading of the standard (not the generator's code) against
# the generated rows.
cat >"$T/check.py" <<'EOF'
import json, re, sys
import xml.etree.ElementTree as ET

table_path, xml_path, json_path = sys.argv[1:4]
src = open(table_path).read()
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)

# Rows of the generated C++.
row_re = re.compile(r'\{0x(\w{4}),\s*0x(\w{4}),\s*0x(\w{4}),\s*0x(\w{4}),\s*"((?:[^"\\]|\\.)*)",'
                    r'\s*(true|false),\s*(true|false),\s*\{([^{}]*)\}\}')
rows = {}
dups = []
for m in row_re.finditer(src):
    g, e, gm, em = (int(x, 16) for x in m.group(1, 2, 3, 4))
    acts = re.findall(r'"([^"]*)"', m.group(8))
    key = (g, e, gm, em)
    if key in rows:
        dups.append(key)
    rows[key] = {"name": m.group(5), "std": m.group(6) == "true",
                 "retired": m.group(7) == "true", "acts": acts}
safe_re = re.compile(r'\{0x(\w{4}),\s*0x(\w{2}),\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"\}')
safe = [(int(m.group(1), 16), int(m.group(2), 16), m.group(3)) for m in safe_re.finditer(src)]

def tag(t):
    t = t.strip().lower()
    if t.startswith("(gggg,eeee)"):
        return (1, 0, 1, 0)
    g, e = t.strip("()").split(",")
    val = lambda p: int(p.replace("x", "0"), 16)
    msk = lambda p: int("".join("0" if c == "x" else "f" for c in p), 16)
    return (val(g), val(e), msk(g), msk(e))

keys = ["basicProfile", "rtnSafePrivOpt", "rtnUIDsOpt", "rtnDevIdOpt", "rtnInstIdOpt",
        "rtnPatCharsOpt", "rtnLongFullDatesOpt", "rtnLongModifDatesOpt", "cleanDescOpt",
        "cleanStructContOpt", "cleanGraphOpt"]
new = {tag(r["tag"]): r for r in json.load(open(json_path))}

D = "{http://docbook.org/ns/docbook}"
root = ET.parse(xml_path).getroot()
tables = {t.get("{http://www.w3.org/XML/1998/namespace}id"): t for t in root.iter(D + "table")}
def body(tid):
    return [["".join(td.itertext()).strip() for td in tr.findall(D + "td")]
            for tr in tables[tid].find(D + "tbody").findall(D + "tr")]
old = {}
for c in body("table_E.1-1"):
    old.setdefault(tag(c[1]), []).append(c)
priv = body("table_E.3.10-1")

allowed = {"", "D", "Z", "X", "K", "C", "U", "X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*"}
check(not dups, f"duplicate rows {dups}")
check(len(rows) == len(set(new) | set(old)), f"{len(rows)} rows, expected the union of the editions")
check(len(rows) == 621, f"{len(rows)} E.1-1 rows, expected 621")
check(len(new) == 621 and sum(len(v) for v in old.values()) == 611, "input row counts changed")
check(all(len(r["acts"]) == 11 for r in rows.values()), "a row without 11 action columns")
check({a for r in rows.values() for a in r["acts"]} <= allowed, "an unknown action code")

# Every 2024b row, every column, as the JSON says; the Retd. flag as the XML says.
for k, r in new.items():
    got = rows.get(k)
    if got is None:
        fails.append(f"{r['tag']} missing")
        continue
    want = [r.get(c, "") for c in keys]
    check(got["acts"] == want, f"{r['tag']}: {got['acts']} != 2024b {want}")
    check(got["std"] == (r["stdCompIOD"] == "Y"), f"{r['tag']}: In Std. Comp. IOD")
    check(got["retired"] == (k in old and old[k][0][2] == "Y"), f"{r['tag']}: retired flag")
# Rows only in 2023b are kept, with its values.
for k in set(old) - set(new):
    c = old[k][0]
    check(k in rows and rows[k]["acts"] == [x.replace(" ", "") for x in c[4:]], f"2023b-only {c[1]}")

def row(t):
    return rows.get(tag(t), {"name": None, "acts": [""] * 11, "retired": None, "std": None})
r = row("(0008,0050)")
check(r["name"] == "Accession Number" and r["acts"][0] == "Z" and r["std"], "Accession Number")
r = row("(0008,002A)")
check(r["name"] == "Acquisition DateTime" and r["acts"][0] == "X/Z/D"
      and r["acts"][6] == "K" and r["acts"][7] == "C", "Acquisition DateTime")
check(row("(0010,0010)")["acts"][0] == "Z", "Patient's Name")
# Patient ID changed: Z in 2023b, Z/D in 2024b; the newer wins.
check(old[tag("(0010,0020)")][0][4] == "Z" and row("(0010,0020)")["acts"][0] == "Z/D", "Patient ID")
r = rows.get((0x5000, 0, 0xFF00, 0))
check(r is not None and r["acts"][0] == "X" and r["acts"][10] == "C", "(50xx,xxxx) Curve Data")
r = rows.get((0x6000, 0x3000, 0xFF00, 0xFFFF))
check(r is not None and r["name"] == "Overlay Data", "(60xx,3000) Overlay Data")
r = rows.get((1, 0, 1, 0))
check(r is not None and r["acts"][:2] == ["X", "C"], "(gggg,eeee) private attributes")
check(row("(0010,1010)")["acts"][5] == "K", "Patient's Age kept by Rtn. Pat. Chars.")
check(row("(0008,0018)")["acts"][0] == "U" and row("(0008,0018)")["acts"][2] == "K", "SOP Instance UID")
# 2024b-only rows are present and not retired; 2023b's duplicated AE Title
# rows (K and C) became one row with C.
r = row("(0012,0022)")
check(r["name"] == "Issuer of Clinical Trial Protocol ID" and r["retired"] is False, "2024b-only row")
check(len(old[tag("(0040,0241)")]) == 2 and row("(0040,0241)")["acts"][3] == "C", "AE Title merge")
check(row("(0032,1021)")["retired"] is True, "Retd. from 2023b")
check(row("(0008,0050)")["retired"] is False, "Accession Number not retired")

# Table E.3.10-1: every row, with the element's low byte.
check(len(safe) == len(priv) == 479, f"{len(safe)} safe private rows, table has {len(priv)}")
for c in priv:
    m = re.fullmatch(r"\((\w{4}),xx(\w{2})\)", c[0])
    key = (int(m.group(1), 16), int(m.group(2), 16), c[1].replace('"', '\\"'))
    check(key in safe, f"E.3.10-1 {c[0]} {c[1]}")
check((0x7053, 0x09, "Philips PET Private Group") in safe, "(7053,xx09) Philips PET")
check((0x00E1, 0x21, "ELSCINT1") in safe, "(00E1,xx21) ELSCINT1")
check(all(g % 2 == 1 for g, _, _ in safe), "a safe private row in an even group")

for f in fails[:20]:
    print("check:", f, file=sys.stderr)
sys.exit(1 if fails else 0)
EOF
expect 0 "the table agrees with the JSON and the DocBook" -- \
  /usr/bin/python3 "$T/check.py" "$TABLE" "$SHARED/$XML" "$SHARED/$JSON"

# The generator refuses input it does not understand rather than guess.
mkdir -p bad
cp "$SHARED/$XML" bad/
expect 1 "no JSON next to the XML" -- /usr/bin/python3 "$GEN" --shared bad -o bad.cpp
stderr_names "missing file message" "$JSON"
nothing_left "no output on failure" bad.cpp
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d[0]["basicProfile"]="Q"; json.dump(d, open(sys.argv[2], "w"))' \
  "$SHARED/$JSON" "bad/$JSON"
expect 1 "unknown action code" -- /usr/bin/python3 "$GEN" --shared bad -o bad.cpp
stderr_names "unknown action names the row" "(0008,0050)"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d[5]["newOpt"]="K"; json.dump(d, open(sys.argv[2], "w"))' \
  "$SHARED/$JSON" "bad/$JSON"
expect 1 "an unknown column" -- /usr/bin/python3 "$GEN" --shared bad -o bad.cpp
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d[7]["tag"]="(00ZZ,0010)"; json.dump(d, open(sys.argv[2], "w"))' \
  "$SHARED/$JSON" "bad/$JSON"
expect 1 "a tag that cannot be encoded" -- /usr/bin/python3 "$GEN" --shared bad -o bad.cpp
stderr_names "bad tag message" "(00ZZ,0010)"
cp "$SHARED/$JSON" bad/
sed 's/Rtn. Safe Priv. Opt./Rtn. Something Opt./' "$SHARED/$XML" >"bad/$XML"
expect 1 "a changed E.1-1 header" -- /usr/bin/python3 "$GEN" --shared bad -o bad.cpp
stderr_names "header message" "table_E.1-1"
sed 's/(7053,xx09)/(7052,xx09)/' "$SHARED/$XML" >"bad/$XML"
expect 1 "a safe private tag in an even group" -- /usr/bin/python3 "$GEN" --shared bad -o bad.cpp
stderr_names "even group message" "(7052,xx09)"
nothing_left "still no output" bad.cpp

finish
