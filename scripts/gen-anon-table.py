#!/usr/bin/python3
"""Generate lib/src/anon/anon_table.cpp from the DICOM standard (PS3.15 Annex E).

Inputs (in --shared, default <repo>/../shared/dicom-standard):
  part15-<edition>.xml                              PS3.15 in DocBook: Tables E.1-1, E.3.10-1
  confidentiality-profile-attributes-<edition>.json a newer Table E.1-1 (innolitics layout)

Table E.1-1 rows are merged by tag: a row in the JSON wins over the DocBook
row; DocBook-only rows are kept. The Retd. column exists only in the DocBook
table. The output is deterministic (sorted by tag) and already formatted the
way clang-format leaves it, so regenerating gives the same bytes; the e2e test
tests/e2e/anon_table.sh checks that. Standard library only, no network.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

XML_NAME = "part15-2023b.xml"
JSON_NAME = "confidentiality-profile-attributes-2024b.json"
DB = "{http://docbook.org/ns/docbook}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

# The action columns of Table E.1-1, in the order of iep::anon::Column, with
# the DocBook header each must carry and the JSON key.
COLUMNS = [
    ("Basic Prof.", "basicProfile"),
    ("Rtn. Safe Priv. Opt.", "rtnSafePrivOpt"),
    ("Rtn. UIDs Opt.", "rtnUIDsOpt"),
    ("Rtn. Dev. Id. Opt.", "rtnDevIdOpt"),
    ("Rtn. Inst. Id. Opt.", "rtnInstIdOpt"),
    ("Rtn. Pat. Chars. Opt.", "rtnPatCharsOpt"),
    ("Rtn. Long. Full Dates Opt.", "rtnLongFullDatesOpt"),
    ("Rtn. Long. Modif. Dates Opt.", "rtnLongModifDatesOpt"),
    ("Clean Desc. Opt.", "cleanDescOpt"),
    ("Clean Struct. Cont. Opt.", "cleanStructContOpt"),
    ("Clean Graph. Opt.", "cleanGraphOpt"),
]
E11_HEADER = ["Attribute Name", "Tag", "Retd.", "In Std. Comp. IOD"] + [c[0] for c in COLUMNS]
E3101_HEADER = ["Data Element", "Private Creator", "VR", "VM", "Meaning"]
JSON_KEYS = {"name", "tag", "id", "stdCompIOD"} | {c[1] for c in COLUMNS}
# The action codes of Table E.1-1a, as the standard writes them.
ACTIONS = {"", "D", "Z", "X", "K", "C", "U", "X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*"}


def die(msg):
    sys.stderr.write(f"gen-anon-table: {msg}\n")
    sys.exit(1)


def clean(s):
    """Table text as one line: zero-width spaces dropped, whitespace collapsed."""
    return " ".join(s.replace("\u200b", "").replace("\ufeff", "").split())


def cell(e):
    return clean("".join(e.itertext()))


def parse_tag(text):
    """'(0008,0050)', '(50xx,xxxx)' or '(gggg,eeee) where gggg is odd' ->
    (group, element, group_mask, element_mask)."""
    t = text.lower()
    if t == "(gggg,eeee) where gggg is odd":
        # Every private attribute: only the low bit of the group matters.
        return (0x0001, 0x0000, 0x0001, 0x0000)
    m = re.fullmatch(r"\(([0-9a-fx]{4}),([0-9a-fx]{4})\)", t)
    if not m:
        return None
    out = []
    for part in m.groups():
        value = int(part.replace("x", "0"), 16)
        mask = int("".join("0" if c == "x" else "f" for c in part), 16)
        out.append((value, mask))
    return (out[0][0], out[1][0], out[0][1], out[1][1])


def yes_no(value, where):
    if value not in ("Y", "N"):
        die(f"{where}: expected Y or N, got {value!r}")
    return value == "Y"


def action(value, where):
    v = re.sub(r"\s+", "", value)
    if v not in ACTIONS:
        die(f"{where}: unknown action code {value!r}")
    return v


def find_table(root, xml_id, header, path):
    for t in root.iter(DB + "table"):
        if t.get(XML_ID) == xml_id:
            break
    else:
        die(f"{path}: no table {xml_id}")
    heads = [cell(th) for th in t.iter(DB + "th")]
    if len(heads) != len(header) or not all(h.startswith(w) for h, w in zip(heads, header)):
        die(f"{path}: {xml_id} header is {heads}, expected {header}")
    rows = []
    for tr in t.find(DB + "tbody").findall(DB + "tr"):
        tds = tr.findall(DB + "td")
        for td in tds:
            if td.get("colspan", "1") != "1" or td.get("rowspan", "1") != "1":
                die(f"{path}: {xml_id} has a spanning cell; the parser does not handle it")
        if len(tds) != len(header):
            die(f"{path}: {xml_id} row with {len(tds)} cells, expected {len(header)}")
        rows.append(tds)
    return rows


def edition_of(name, path):
    m = re.search(r"-(\d{4}[a-z])\.(xml|json)$", name)
    if not m:
        die(f"{path}: no edition (like 2024b) in the file name")
    return m.group(1)


def read_xml(path):
    root = ET.parse(path).getroot()
    subtitle = clean("".join(root.find(DB + "subtitle").itertext()))
    m = re.match(r"DICOM PS3\.15 (\d{4}[a-z]) ", subtitle)
    if not m or m.group(1) != edition_of(os.path.basename(path), path):
        die(f"{path}: subtitle {subtitle!r} does not match the file name's edition")
    e11 = []
    for tds in find_table(root, "table_E.1-1", E11_HEADER, path):
        c = [cell(td) for td in tds]
        where = f"{path}: E.1-1 {c[1]}"
        tag = parse_tag(c[1])
        if tag is None:
            die(f"{where}: cannot encode the tag")
        e11.append({
            "name": c[0],
            "tag_text": c[1],
            "tag": tag,
            "retired": yes_no(c[2], where + " Retd."),
            "std": yes_no(c[3], where + " In Std. Comp. IOD"),
            "actions": [action(v, where) for v in c[4:]],
        })
    safe = []
    for tds in find_table(root, "table_E.3.10-1", E3101_HEADER, path):
        c = [cell(td) for td in tds]
        # The creator is matched against data: only trim the ends, keep its inside.
        c[1] = "".join(tds[1].itertext()).replace("\u200b", "").strip()
        m = re.fullmatch(r"\(([0-9A-Fa-f]{4}),xx([0-9A-Fa-f]{2})\)", c[0])
        if not m:
            die(f"{path}: E.3.10-1 {c[0]}: not a (gggg,xxee) private tag")
        group, element = int(m.group(1), 16), int(m.group(2), 16)
        if group % 2 != 1 or group <= 0x0007:
            die(f"{path}: E.3.10-1 {c[0]}: group is not a private group")
        if not c[1] or "\n" in c[1]:
            die(f"{path}: E.3.10-1 {c[0]}: no private creator")
        safe.append({"tag_text": c[0], "group": group, "element": element, "creator": c[1],
                     "vr": c[2], "vm": c[3], "name": c[4]})
    return e11, safe


def read_json(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list):
        die(f"{path}: expected a JSON array of rows")
    rows = []
    for r in data:
        if not isinstance(r, dict) or not JSON_KEYS >= set(r) or not {"name", "tag"} <= set(r):
            die(f"{path}: unexpected row {r!r}")
        where = f"{path}: {r['tag']}"
        tag = parse_tag(clean(r["tag"]))
        if tag is None:
            die(f"{where}: cannot encode the tag")
        rows.append({
            "name": clean(r["name"]),
            "tag_text": clean(r["tag"]),
            "tag": tag,
            "std": yes_no(r.get("stdCompIOD", ""), where + " stdCompIOD"),
            "actions": [action(r.get(k, ""), f"{where} {k}") for _, k in COLUMNS],
        })
    return rows


def merge(old_rows, new_rows, old_ed, new_ed):
    """Merge by tag: the newer edition wins; rows only in the older are kept.
    Returns rows with 'comment' saying where each came from and what changed."""
    old = {}
    for r in old_rows:
        old.setdefault(r["tag"], []).append(r)
    new = {}
    for r in new_rows:
        if r["tag"] in new:
            die(f"{new_ed}: tag {r['tag_text']} twice")
        new[r["tag"]] = r
    out = []
    for tag in sorted(set(old) | set(new)):
        olds = old.get(tag, [])
        if tag in new:
            r = dict(new[tag])
            retired = {o["retired"] for o in olds}
            if len(retired) > 1:
                die(f"{old_ed}: {r['tag_text']} both retired and not")
            # The JSON has no Retd. column: take the older table's, else the name.
            r["retired"] = retired.pop() if retired else "retired" in r["name"].lower()
            if not olds:
                note = " new"
            else:
                diffs = []
                if {o["name"] for o in olds} != {r["name"]}:
                    diffs.append("name " + " | ".join(f'"{o["name"]}"' for o in olds))
                if {o["std"] for o in olds} != {r["std"]}:
                    diffs.append("stdCompIOD " + "|".join("YN"[not o["std"]] for o in olds))
                for i, (_, key) in enumerate(COLUMNS):
                    vals = [o["actions"][i] for o in olds]
                    if set(vals) != {r["actions"][i]}:
                        diffs.append(f"{key} " + "|".join(v or "-" for v in vals))
                if len(olds) > 1:
                    diffs.append(f"{len(olds)} rows")
                note = f"; {old_ed} " + "; ".join(diffs) if diffs else ""
            r["comment"] = f"{new_ed}{note}"
        else:
            if len(olds) > 1:
                die(f"{old_ed}: {olds[0]['tag_text']} has {len(olds)} rows and no {new_ed} row")
            r = dict(olds[0])
            r["comment"] = f"{old_ed} only"
        out.append(r)
    return out


def c_str(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            # Octal escapes: never swallow a following digit the way \x does.
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tag_text(tag):
    """The tag as the standard writes it: upper-case hex, x for a masked nibble."""
    g, e, gm, em = tag
    if (gm, em) == (0x0001, 0x0000):
        return "(gggg,eeee) where gggg is odd"
    def part(v, m):
        return "".join("x" if (m >> s) & 0xF == 0 else "%X" % ((v >> s) & 0xF)
                       for s in (12, 8, 4, 0))
    return f"({part(g, gm)},{part(e, em)})"


def wrap(items, comment):
    """One initializer: items joined by ', ' and the comment, wrapped before 100
    columns between items (a long string or comment may still run over)."""
    lines, line = [], "    {"
    for i, item in enumerate(items):
        last = i + 1 == len(items)
        piece = item + ("}," if last else ", ")
        width = len(line) + len(piece.rstrip()) + (len("  // ") + len(comment) if last else 0)
        if width > 100 and line.strip() != "{":
            lines.append(line.rstrip())
            line = "     "
        line += piece
    lines.append(f"{line}  // {comment}")
    return lines


def render(rows, safe, xml_path, json_path, old_ed, new_ed):
    provenance = [f"PS3.15 {new_ed} Table E.1-1 ({JSON_NAME}), ",
                  f"{old_ed} Tables E.1-1 (Retd. column, rows absent from {new_ed}) ",
                  f"and E.3.10-1 ({XML_NAME})"]
    lines = [
        "// GENERATED FILE, do not edit. Regenerate from the repository root with",
        "//   /usr/bin/python3 scripts/gen-anon-table.py",
        "// which reads ../shared/dicom-standard and writes this file; the e2e test",
        "// anon_table checks that the two agree.",
        "//",
        "// Source: DICOM PS3.15 Annex E.",
        f"//   Table E.1-1:    {JSON_NAME} (PS3.15 {new_ed}),",
        f"//                   merged by tag with {XML_NAME} (PS3.15 {old_ed}):",
        f"//                   a {new_ed} row wins, the Retd. flag comes from {old_ed}.",
        f"//   Table E.3.10-1: {XML_NAME} (PS3.15 {old_ed}).",
        "// SHA-256 of the inputs:",
        f"//   {JSON_NAME}",
        f"//     {sha256(json_path)}",
        f"//   {XML_NAME}",
        f"//     {sha256(xml_path)}",
        "//",
        "// A tag with x digits has 0 nibbles in its mask; \"(gggg,eeee) where gggg is",
        "// odd\" (every private attribute) is group 0x0001 with group mask 0x0001.",
        "// After each row: the tag as the standard writes it, the edition the row",
        f"// comes from, and, when {old_ed} differed, its values.",
        "#include \"anon/anon_table.h\"",
        "",
        "#include <iterator>",
        "",
        "namespace iep::anon {",
        "",
        "// clang-format off",
        "const Row kTable[] = {",
    ]
    for r in rows:
        g, e, gm, em = r["tag"]
        items = [f"0x{g:04X}", f"0x{e:04X}", f"0x{gm:04X}", f"0x{em:04X}", c_str(r["name"]),
                 # The two flags stay on one line, like the four numbers of the tag.
                 f"{'true' if r['std'] else 'false'}, {'true' if r['retired'] else 'false'}",
                 "{" + ", ".join(c_str(a) for a in r["actions"]) + "}"]
        lines += wrap(items, f"{tag_text(r['tag'])} {r['comment']}")
    lines += ["};", "// clang-format on", "",
              "const std::size_t kTableSize = std::size(kTable);", "",
              "// clang-format off", "const SafePrivate kSafePrivate[] = {"]
    for s in safe:
        items = [f"0x{s['group']:04X}", f"0x{s['element']:02X}", c_str(s["creator"]),
                 c_str(s["name"])]
        lines += wrap(items, f"({s['group']:04X},xx{s['element']:02X}) VR {s['vr'] or '-'} "
                             f"VM {s['vm'] or '-'}")
    lines += ["};", "// clang-format on", "",
              "const std::size_t kSafePrivateSize = std::size(kSafePrivate);", "",
              "const char* const kTableProvenance ="]
    lines += [f"    {c_str(p)}" for p in provenance]
    lines[-1] += ";"
    lines += ["", "}  // namespace iep::anon", ""]
    return "\n".join(lines)


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(repo, "..", "shared", "dicom-standard"),
                    help="folder holding %s and %s" % (XML_NAME, JSON_NAME))
    ap.add_argument("-o", "--output", default=os.path.join(repo, "lib", "src", "anon", "anon_table.cpp"))
    args = ap.parse_args()

    xml_path = os.path.join(args.shared, XML_NAME)
    json_path = os.path.join(args.shared, JSON_NAME)
    for p in (xml_path, json_path):
        if not os.path.isfile(p):
            die(f"{p}: not found (is the shared dicom-standard folder there?)")
    old_ed, new_ed = edition_of(XML_NAME, xml_path), edition_of(JSON_NAME, json_path)

    e11_old, safe = read_xml(xml_path)
    e11_new = read_json(json_path)
    rows = merge(e11_old, e11_new, old_ed, new_ed)
    safe.sort(key=lambda s: (s["group"], s["element"], s["creator"]))
    seen = set()
    for s in safe:
        key = (s["group"], s["element"], s["creator"])
        if key in seen:
            die(f"{xml_path}: E.3.10-1 {s['tag_text']} {s['creator']} twice")
        seen.add(key)

    text = render(rows, safe, xml_path, json_path, old_ed, new_ed)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    os.replace(tmp, args.output)
    sys.stderr.write(f"gen-anon-table: {args.output}: {len(rows)} E.1-1 rows "
                     f"({len(e11_new)} {new_ed}, {len(e11_old)} {old_ed}), "
                     f"{len(safe)} E.3.10-1 rows\n")


if __name__ == "__main__":
    main()
