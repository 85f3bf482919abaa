#!/usr/bin/python3
"""An oracle for iep-anon's Basic Profile that shares no code with iep: it
reads PS3.15 Table E.1-1 (DICOM 2024b) from the JSON in the shared
dicom-standard folder itself, reads both files of each pair with pydicom, and
checks the output against the table.  Run with /usr/bin/python3 (Debian's,
with python3-pydicom).  Used by tests/e2e/deid_oracle.sh.

  check TABLE.json PAIRS   check each "input<TAB>output" line of PAIRS;
                           prints one "FAIL: output (input): what" line per
                           defect and a summary; exit 3 if any, else 0

What it checks, at every depth of nested sequences, for the Basic Profile
without options (the actions of the "basicProfile" column):

  X      absent
  Z      absent or empty
  D      present (if it was) and not empty, a value other than the original
  X/Z    absent or empty
  X/D    absent, or as D
  Z/D    present (if it was): empty, or as D
  X/Z/D  absent, empty, or as D
  U      present (if it was), a valid UID (PS3.5 9.1), not the original; one
         input UID gives one output UID in all pairs, and two input UIDs
         never give the same one
  X/Z/U* absent, empty, or kept with its items (the UIDs inside are U)

Sequences: a sequence's own action is checked as above (for Z: no items; for
D: present), and the items that remain are checked again, paired item by
item with the original's.  Private attributes (odd groups, their creators
included) must be absent: the Basic Profile removes them and the test uses no
retain-safe-private option.

Then the bytes: no original value of a table attribute (any action above),
as a whole value or one value of a multi-valued one, and for names each name
component, of 4 bytes or more, may appear anywhere in the raw output file
(pixel data and meta header included).  Numbers (IS, DS, dates, times, UIDs:
values of digits, dots, signs) count only as whole numbers: not next to a
digit, and not continued by ".digit".  Values that legitimately recur are not
searched; each exclusion is one rule below (see EXCLUSIONS).
"""
import json
import re
import sys
import warnings

import pydicom
from pydicom import config
from pydicom.dataelem import RawDataElement
from pydicom.datadict import dictionary_VR
from pydicom.tag import Tag

warnings.simplefilter("ignore")
config.settings.reading_validation_mode = config.IGNORE

STRING_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH",
              "ST", "TM", "UC", "UI", "UR", "UT"}
UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
NUMBER_RE = re.compile(rb"^[-+0-9.]+$")

# The attributes iep-anon adds to record the de-identification (PS3.15 E.1.1
# asks for them): their values are the product's own words and codes, not
# input values, so an original value that is also a substring of one of them
# (say a Study Description "Basic") is not a leak.  EXCLUSION 2.
RECORD_TAGS = {Tag(0x0012, 0x0062), Tag(0x0012, 0x0063), Tag(0x0012, 0x0064),
               Tag(0x0028, 0x0303)}

# Z is "zero length" (strictly: the legend of Table E.1-1 also allows a
# dummy, but a value where none is needed is a risk without use), with one
# exception: Patient's Name, which iep-anon(1) documents as the keyed
# pseudonym ANON^XXXXXXXXXXXX (or the subject id of --mapping) so that the
# studies of one patient stay linked.  It must still differ from the
# original, and no piece of the original may be in it (the byte search).
Z_DUMMY_ALLOWED = {Tag(0x0010, 0x0010)}

findings = []
checked = {}  # basic action -> how many attributes of the inputs it was checked on


def fail(pair, what):
    findings.append(f"FAIL: {pair[1]} ({pair[0]}): {what}")


class Table:
    """Table E.1-1: tag -> (name, basic action).  Tags with x in them
    ((50xx,xxxx) curves, (60xx,4000) overlay comments, (60xx,3000) overlay
    data) are matched per nibble."""

    def __init__(self, path):
        self.exact = {}
        self.masked = []
        self.private = None  # the action of the row "(GGGG,EEEE) where GGGG is odd"
        for row in json.load(open(path)):
            action = row["basicProfile"]
            if "ODD" in row["tag"].upper():
                self.private = action
                continue
            g, e = row["tag"].strip("()").split(",")
            if re.search("[xX]", g + e):
                pat = re.compile("^" + (g + e).upper().replace("X", "[0-9A-F]") + "$")
                self.masked.append((pat, row["name"], action))
            else:
                self.exact[int(g + e, 16)] = (row["name"], action)
        if len(self.exact) < 500 or len(self.masked) != 3 or self.private is None:
            raise SystemExit(f"{path}: {len(self.exact)} attributes, {len(self.masked)} repeating"
                             f" groups, private row {self.private}: not Table E.1-1 as expected")

    def get(self, tag):
        hit = self.exact.get(int(tag))
        if hit:
            return hit
        text = f"{int(tag):08X}"
        for pat, name, action in self.masked:
            if pat.match(text):
                return name, action
        return None


def vr_of(ds, tag):
    elem = ds.get_item(tag)
    vr = getattr(elem, "VR", None)
    if vr in (None, "UN") and not tag.is_private:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            pass
    return vr or "UN"


def raw_bytes(ds, tag):
    """The value's bytes as stored in the file (text in its own character
    set, never re-encoded)."""
    elem = ds.get_item(tag)
    if isinstance(elem, RawDataElement):
        return elem.value or b""
    value = elem.value
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        value = "\\".join(str(v) for v in value)
    return str(value).encode("utf-8", "replace")


def text(b):
    return b.rstrip(b" \0").lstrip(b" ")


def is_empty(ds, tag):
    vr = vr_of(ds, tag)
    if vr == "SQ":
        return len(ds[tag].value or []) == 0
    return len(text(raw_bytes(ds, tag))) == 0


def children(ds):
    return [t for t in ds.keys()]


# ---------------------------------------------------------------------------
# Attribute actions, output against input.

uid_map = {}      # original UID -> {new UID: first pair}
uid_reverse = {}  # new UID -> {original UID}
original_uids = set()  # every value of a U attribute in any input, at any depth
output_uids = []       # (pair, where, value) of every U attribute written


def check_uid(pair, where, orig, new):
    if not new:
        fail(pair, f"{where}: U, but the UID is empty")
        return
    if orig is not None and new == orig:
        fail(pair, f"{where}: U, but the original UID {orig} is kept")
        return
    output_uids.append((pair, where, new))
    if len(new) > 64 or not UID_RE.match(new):
        fail(pair, f"{where}: U, but '{new}' is not a valid UID")
    if orig is None:
        return
    uid_map.setdefault(orig, {}).setdefault(new, pair)
    uid_reverse.setdefault(new, set()).add(orig)


def check_dataset(pair, table, out, orig, path, replaced):
    """Checks the output item `out` against the original item `orig`
    (None when the output item has no original counterpart); adds the
    values iep-anon wrote in place of others, (tag, bytes), to `replaced`."""
    for tag in children(out):
        where = f"{path}({tag.group:04X},{tag.element:04X})"
        if tag.group == 0x0002 or tag.element == 0x0000:
            continue
        if tag.is_private:
            if table.private == "X":
                fail(pair, f"{where}: private attribute kept (Basic Profile: X)")
            continue
        row = table.get(tag)
        if row is None:
            if vr_of(out, tag) == "SQ":
                check_items(pair, table, out, orig, tag, where, replaced)
            continue
        name, action = row
        where = f"{where} {name}"
        vr = vr_of(out, tag)
        empty = is_empty(out, tag)
        had = orig is not None and tag in orig
        before = text(raw_bytes(orig, tag)) if had and vr != "SQ" else None
        now = text(raw_bytes(out, tag)) if vr != "SQ" else None
        if action == "X":
            fail(pair, f"{where}: X, but present")
            continue
        if action in ("Z", "X/Z"):
            if not empty and tag in Z_DUMMY_ALLOWED and before is not None and now != before:
                replaced.append((tag, now))
            elif not empty:
                fail(pair, f"{where}: {action}, but not empty"
                     + (" (the original value)" if before is not None and now == before else ""))
            continue
        if action in ("D", "X/D", "Z/D", "X/Z/D"):
            if empty and action in ("D", "X/D"):
                fail(pair, f"{where}: {action}, but empty")
            elif vr != "SQ" and not empty and before is not None and now == before:
                fail(pair, f"{where}: {action}, but the original value '{before.decode('latin-1')}' is kept")
            elif vr != "SQ" and not empty and before is not None:
                replaced.append((tag, now))
            if vr == "SQ":
                check_items(pair, table, out, orig, tag, where, replaced)
            continue
        if action == "U":
            if vr == "SQ":  # Presentation Sequence Collection UID is UI; be safe
                check_items(pair, table, out, orig, tag, where, replaced)
                continue
            check_uid(pair, where, before.decode("latin-1") if before else None, now.decode("latin-1"))
            if before is not None and now != before:
                replaced.append((tag, now))
            continue
        if action == "X/Z/U*":
            if vr == "SQ":
                check_items(pair, table, out, orig, tag, where, replaced)
            continue
        fail(pair, f"{where}: action {action} not understood by the oracle")
    # Attributes that must stay: D, Z/D and U were present in the original.
    if orig is None:
        return
    for tag in children(orig):
        row = table.get(tag) if not tag.is_private else ("", "private " + str(table.private))
        if row and tag.group != 0x0002:
            checked[row[1]] = checked.get(row[1], 0) + 1
        if tag.is_private or tag.group == 0x0002 or tag in out:
            continue
        if row and row[1] in ("D", "Z/D", "U") and not is_empty(orig, tag):
            fail(pair, f"{path}({tag.group:04X},{tag.element:04X}) {row[0]}: {row[1]}, but removed")


def check_items(pair, table, out, orig, tag, where, replaced):
    items = out[tag].value or []
    before = orig[tag].value if orig is not None and tag in orig and vr_of(orig, tag) == "SQ" else []
    for i, item in enumerate(items):
        check_dataset(pair, table, item, before[i] if i < len(before or []) else None, f"{where}[{i}]>",
                      replaced)


# ---------------------------------------------------------------------------
# Original values in the output bytes.

def split_values(vr, value):
    """The whole value, each of its values, and for names each component
    group and component: every piece that identifies on its own."""
    pieces = {value}
    for v in value.split(b"\\"):
        pieces.add(v)
        if vr == "PN":
            for group in v.split(b"="):
                pieces.add(group)
                pieces.update(group.split(b"^"))
    return {text(p) for p in pieces}


def identifying_values(table, ds, out):
    """Yields (tag, piece) for every string value of a table attribute at
    any depth of ds; fills `out` (kept) with every string value of the
    attributes the profile keeps (not in the table, not private, not under
    a table sequence)."""
    found = []

    def walk(item, kept_path):
        for tag in children(item):
            if tag.group == 0x0002 or tag.element == 0x0000:
                continue
            vr = vr_of(item, tag)
            in_table = table.get(tag) is not None or tag.is_private
            if vr == "SQ":
                for sub in item[tag].value or []:
                    walk(sub, kept_path and not in_table)
                continue
            if vr not in STRING_VRS:
                continue
            value = text(raw_bytes(item, tag))
            if in_table and table.get(tag) is not None:
                if table.get(tag)[1] == "U":
                    original_uids.add(value.decode("latin-1"))
                for piece in split_values(vr, value):
                    found.append((tag, piece))
            elif not in_table and kept_path:
                out.append(value)

    walk(ds, True)
    return found


def record_values(ds):
    vals = []

    def walk(item, inside):
        for tag in children(item):
            vr = vr_of(item, tag)
            here = inside or tag in RECORD_TAGS
            if vr == "SQ":
                for sub in item[tag].value or []:
                    walk(sub, here)
            elif here and vr in STRING_VRS:
                vals.append(text(raw_bytes(item, tag)))

    walk(ds, False)
    return vals


def number_re(piece):
    return re.compile(rb"(?<![0-9.])" + re.escape(piece) + rb"(?![0-9]|\.[0-9])")


def check_bytes(pair, table, orig, out, replaced):
    data = open(pair[1], "rb").read()
    kept = []
    values = identifying_values(table, orig, kept)
    recorded = record_values(out) + [text(raw_bytes(out.file_meta, t)) for t in out.file_meta.keys()
                                     if vr_of(out.file_meta, t) in STRING_VRS]
    seen = set()
    for tag, piece in values:
        if len(piece) < 4 or piece in seen:
            continue
        seen.add(piece)
        number = NUMBER_RE.match(piece) is not None
        # EXCLUSION 1: the value is also (part of) the value of an attribute
        # of the same original that the profile keeps (not in the table, not
        # private, not inside a removed sequence): e.g. a Protocol Name
        # "CHEST" that is also the Body Part Examined.  Its bytes stay,
        # legitimately, in the kept attribute.
        # EXCLUSION 2: the value is also part of what iep-anon writes to
        # record the de-identification or of the meta header it makes (the
        # method's name, its codes, the transfer syntax and SOP class UIDs):
        # e.g. a Study Description "DICOM" inside "DICOM PS3.15 ...".
        pool = kept + recorded
        if number:
            pat = number_re(piece)
            count = lambda b: len(pat.findall(b))  # noqa: E731
        else:
            count = lambda b: b.count(piece)  # noqa: E731
        if any(count(k) for k in pool):
            continue
        # EXCLUSION 3: occurrences inside a value iep-anon wrote in place of
        # ANOTHER attribute's original (one the input has at the same place,
        # with another value) are its own dummies, not this value:
        # e.g. an original Study Time 000000 and the dummy 000000 of Instance
        # Creation Time, or an original Scheduled Procedure Step ID "ANON"
        # and the pseudonym ANON-XXXXXXXXXXXX.  Only those occurrences are
        # excused: any other one is still a leak, and a replacement that
        # holds its own attribute's original is never excused.
        excused = sum(count(v) for t, v in replaced if t != tag)
        if count(data) > excused:
            fail(pair, f"original value of ({tag.group:04X},{tag.element:04X}) "
                 f"{table.get(tag)[0]} '{piece.decode('latin-1')}' found in the output bytes")


def cmd_check(table_path, pairs_path):
    table = Table(table_path)
    pairs = [line.rstrip("\n").split("\t") for line in open(pairs_path) if line.strip()]
    for pair in pairs:
        try:
            orig = pydicom.dcmread(pair[0], force=True)
            out = pydicom.dcmread(pair[1])
        except Exception as e:  # an output pydicom cannot read is a defect too
            fail(pair, f"unreadable: {e}")
            continue
        replaced = []
        check_dataset(pair, table, out, orig, "", replaced)
        check_bytes(pair, table, orig, out, replaced)
    # A U attribute the path pairing could not match (a reference added or
    # moved) must not hold any input's UID either.
    for pair, where, new in output_uids:
        if new in original_uids:
            fail(pair, f"{where}: U, but it holds the original UID {new} of an input")
    for orig, news in uid_map.items():
        if len(news) > 1:
            first = sorted(news.items())
            fail(first[1][1], f"UID {orig} became {len(news)} different UIDs: "
                 + ", ".join(f"{n} in {p[1]}" for n, p in first[:3]))
    for new, origs in uid_reverse.items():
        if len(origs) > 1:
            pair = next(iter(uid_map[next(iter(origs))].values()))
            fail(pair, f"UID {new} is the output of {len(origs)} different UIDs: {sorted(origs)[:3]}")
    for f in findings:
        print(f)
    print("attributes of the inputs checked, by action: "
          + ", ".join(f"{a} {n}" for a, n in sorted(checked.items())))
    print(f"{len(pairs)} pairs, {len(uid_map)} UIDs replaced, {len(findings)} findings")
    return 3 if findings else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(cmd_check(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
