#!/usr/bin/python3
"""Helper of tests/e2e/anon_corpus.sh: the comparisons that are clearer in
Python with pydicom than in shell.  Run with /usr/bin/python3 (Debian's, with
python3-pydicom).

  inputs DIR...          one line per candidate input file: "path<TAB>kind",
                         kind = sr (an SR document), dicom or other; DICOMDIR
                         files are left out (iep-anon reads what they index)
  add-pixels FILE        give an image without pixels a small Pixel Data
  compare PAIRS          check each "input<TAB>output" pair; prints one line
                         per check, "ok: ..." or "FAIL: ..."; exit 3 if any
                         check failed

Everything it reports names the input file, so a failure can be traced.
"""
import os
import re
import struct
import subprocess
import sys
import warnings

import pydicom
from pydicom import config
from pydicom.charset import convert_encodings
from pydicom.tag import Tag

SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
PIXEL_TAGS = (Tag(0x7FE0, 0x0008), Tag(0x7FE0, 0x0009), Tag(0x7FE0, 0x0010))
TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "UC", "PN"}
# Character sets whose values are plain ASCII: nothing to check beyond it.
ASCII_SETS = {"", "ISO_IR 6", "ISO 2022 IR 6"}
# Attributes that identify the patient, the visit or the staff (PS3.15
# Table E.1-1, those present in the charset files); with every PN they are
# the values that must not survive in any form.
IDENTIFYING = {
    "PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID",
    "AdditionalPatientHistory", "PatientComments", "InstitutionName",
    "StationName", "DeviceSerialNumber", "PlateID", "PatientBirthDate",
    "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
}


def read(path, **kw):
    return pydicom.dcmread(path, force=True, **kw)


def cmd_inputs(dirs):
    for top in dirs:
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                kind = "other"
                try:
                    ds = read(path, stop_before_pixels=True)
                    meta = getattr(ds, "file_meta", None)
                    if meta is not None and meta.get("MediaStorageSOPClassUID") == DICOMDIR_CLASS:
                        continue
                    sop = str(ds.get("SOPClassUID", ""))
                    if sop:
                        kind = "sr" if sop.startswith(SR_PREFIX) else "dicom"
                except Exception:  # not DICOM: iep-anon must quarantine it
                    pass
                print(f"{path}\t{kind}")


def cmd_add_pixels(path):
    """Appends a zero Pixel Data element sized by Rows x Columns x Bits
    Allocated to an explicit little-endian file whose last group is below
    7FE0: the bytes before it stay exactly as they were (no re-encoding of
    the text values whose character sets are under test)."""
    ds = read(path)
    if "PixelData" in ds or "Rows" not in ds:
        return  # has pixels, or is no image
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1", path
    assert max(ds.keys()) < Tag(0x7FE0, 0x0010), path
    size = ds.Rows * ds.Columns * ds.SamplesPerPixel * (ds.BitsAllocated // 8)
    size += size % 2
    with open(path, "ab") as f:
        f.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, size) + bytes(size))


def transfer_syntax(ds):
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return str(meta.TransferSyntaxUID)
    # No meta header: what pydicom found the encoding to be.
    if ds.is_implicit_VR:
        return "1.2.840.10008.1.2"
    return "1.2.840.10008.1.2.1" if ds.is_little_endian else "1.2.840.10008.1.2.2"


def pixel_bytes(ds):
    """The raw value of each pixel data element, as stored (compressed
    fragments included): de-identification must copy them byte for byte."""
    return {str(t): bytes(ds[t].value) for t in PIXEL_TAGS if t in ds}


# dciodvfy's error lines, made comparable between an original and its
# de-identified copy.  What de-identification changes on purpose is values:
# UIDs, names, dates, identifiers.  So the quoted values ("..."), the values
# after '=' ("= <...>"), the UID named after "same value as ... <...>" and
# the UID after "ReferencedSOPInstanceUID" are blanked; the attribute and
# module names (Element=<...>, Module=<...>, attribute <...>), the kind of
# error and its reason are kept.  A fixed error (an invalid date that is now
# 19000101) simply disappears; an error on a new attribute, a missing or
# emptied Type 1 attribute, a broken sequence, a meta header that disagrees
# with the data set, all stay distinct and count as new.
def normalise(line):
    line = re.sub(r'"[^"]*"', '""', line)
    line = re.sub(r"(Element|Module)=<([^>]*)>", r"\1=[\2]", line)
    line = re.sub(r"attribute <([^>]*)>", r"attribute [\1]", line)
    line = re.sub(r"<[^>]*>", "<>", line)
    line = re.sub(r"(ReferencedSOPInstanceUID) \S+", r"\1 *", line)
    return line.strip()


# dciodvfy stops on what it cannot read: an "Abort" line, or "Dicom dataset
# read failed" / "... giving up", after which it checks nothing more and so
# reports no error.  That makes "no new error" meaningless: an abort on the
# input or the output is a failure of its own.  (dciodvfy cannot inflate the
# deflated transfer syntax; the corpus's two deflated files are quarantined
# for burned-in text today, so none is compared.)
ABORT = re.compile(r"^Abort|Dicom dataset read failed|giving up")


def dciodvfy_errors(path):
    """The normalised Error lines of dciodvfy on path, and the lines that
    show it gave up (see ABORT)."""
    p = subprocess.run(["dciodvfy", path], capture_output=True, text=True,
                       errors="replace")
    lines = (p.stdout + p.stderr).splitlines()
    aborts = [l for l in lines if ABORT.search(l)]
    return {normalise(l): l for l in lines if l.startswith("Error")}, aborts


def charsets(ds):
    """Every Specific Character Set of the data set and its items, in order."""
    found = []
    for elem in ds.iterall():
        if elem.tag == Tag(0x0008, 0x0005):
            v = elem.value
            found.append(tuple(v) if isinstance(v, (list, pydicom.multival.MultiValue)) else (v,))
    return found


def decoded_texts(path):
    """Reads a file with strict decoding: an undecodable value, an unknown
    character set or a decoding warning raises.  Returns (dataset, list of
    (keyword, VR, decoded string)) for every text value at any depth."""
    old = config.settings.reading_validation_mode
    config.settings.reading_validation_mode = config.RAISE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ds = read(path)
            out = []
            for elem in ds.iterall():
                if elem.VR not in TEXT_VRS or elem.value is None:
                    continue
                vals = elem.value if isinstance(elem.value, (list, pydicom.multival.MultiValue)) else [elem.value]
                for v in vals:
                    out.append((elem.keyword or str(elem.tag), elem.VR, str(v)))
            return ds, out
    finally:
        config.settings.reading_validation_mode = old


def identifying_strings(texts):
    """The pieces of the original's identifying values that must not appear
    in the output: whole values and name components, non-ASCII ones from 2
    characters, ASCII ones from 4 (shorter ones occur by chance).  A string
    that the original also holds in an attribute the profile keeps (an SR
    name 'Enter text' that is also a kept Text Value) is no leak."""
    kept = {v for kw, vr, v in texts if vr != "PN" and kw not in IDENTIFYING}
    found = set()
    for kw, vr, v in texts:
        if vr != "PN" and kw not in IDENTIFYING:
            continue
        pieces = {v} | set(re.split(r"[=^]", v)) if vr == "PN" else {v}
        for p in pieces:
            p = p.strip()
            if (not p.isascii() and len(p) >= 2) or len(p) >= 4:
                found.add(p)
    return found - kept


class Checker:
    def __init__(self):
        self.failures = 0

    def ok(self, what):
        print(f"ok: {what}")

    def fail(self, what):
        self.failures += 1
        print(f"FAIL: {what}")

    def check(self, cond, what):
        (self.ok if cond else self.fail)(what)
        return cond

    def pair(self, src, out):
        name = src
        p = subprocess.run(["dcmdump", "-q", out], capture_output=True)
        if not self.check(p.returncode == 0, f"{name}: output parses (dcmdump)"):
            return
        try:
            a, b = read(src), read(out)
            ts_a, ts_b = transfer_syntax(a), transfer_syntax(b)
            self.check(ts_a == ts_b, f"{name}: transfer syntax kept ({ts_a} -> {ts_b})")
            pa, pb = pixel_bytes(a), pixel_bytes(b)
            same = pa == pb
            self.check(same, f"{name}: pixel data byte-identical ({', '.join(pa) or 'none'})")
        except Exception as e:  # pydicom cannot read one of them
            self.fail(f"{name}: pydicom cannot compare: {type(e).__name__}: {e}")
            return
        (old, old_abort), (new, new_abort) = dciodvfy_errors(src), dciodvfy_errors(out)
        self.check(not old_abort and not new_abort,
                   f"{name}: dciodvfy reads the input and the output to the end"
                   f" ({'; '.join((old_abort + new_abort)[:2]) or 'no abort'})")
        added = [new[k] for k in sorted(new) if k not in old]
        if not self.check(not added, f"{name}: no new dciodvfy error ({len(new)} vs {len(old)} in the input)"):
            for line in added:
                print(f"  new in {out}: {line}")
        sets = charsets(a)
        if any(v not in ASCII_SETS for s in sets for v in s):
            self.charset(src, out, sets)

    def charset(self, src, out, sets_in):
        name = src
        try:
            a, texts_in = decoded_texts(src)
        except Exception as e:
            self.fail(f"{name}: the original does not decode: {e}")
            return
        try:
            b, texts_out = decoded_texts(out)
        except Exception as e:
            self.fail(f"{name}: output does not decode strictly in its character set: {type(e).__name__}: {e}")
            return
        self.ok(f"{name}: output decodes strictly in {sets_in}")
        self.check(charsets(b) == sets_in, f"{name}: Specific Character Set kept ({charsets(b)})")
        bad = [t for t in texts_out if "\ufffd" in t[2]]
        self.check(not bad, f"{name}: no replacement characters {bad[:3]}")
        # Each value of the output must encode back into the declared set
        # (its repertoire), and pass pydicom's VR checks (length, form).
        encodings = [e for s in sets_in for e in convert_encodings(list(s))]
        invalid = []
        for kw, vr, v in texts_out:
            try:
                for enc in encodings:
                    try:
                        v.encode(enc)
                        break
                    except UnicodeEncodeError:
                        continue
                else:
                    raise UnicodeEncodeError(encodings[0], v, 0, len(v), "not in the repertoire")
                pydicom.valuerep.validate_value(vr, v, config.RAISE)
            except Exception as e:
                invalid.append(f"{kw}={v!r} ({e})")
        self.check(not invalid, f"{name}: every value valid in {sets_in} {invalid[:3]}")
        replaced = {t[0]: t[2] for t in texts_out if t[0] in ("PatientName", "PatientID")}
        self.check(all(v.startswith("ANON") for v in replaced.values()),
                   f"{name}: name and ID replaced by pseudonyms {replaced}")
        # No piece of an original identifying value, in decoded form nor in
        # its original encoding, anywhere in the output.
        pieces = identifying_strings(texts_in)
        joined = "\n".join(t[2] for t in texts_out)
        with open(out, "rb") as f:
            raw = f.read()
        left = sorted(p for p in pieces if p in joined)
        for enc in encodings:
            for p in pieces:
                if p.isascii():
                    continue  # short ASCII strings occur in binary data by chance
                try:
                    if p.encode(enc) in raw:
                        left.append(f"{p} ({enc})")
                except UnicodeEncodeError:
                    pass
        self.check(not left, f"{name}: no original identifying value in the output ({len(pieces)} looked for) {left[:5]}")


def cmd_compare(pairs):
    c = Checker()
    with open(pairs, encoding="utf-8") as f:
        for line in f:
            src, out = line.rstrip("\n").split("\t")[:2]
            c.pair(src, out)
    return 3 if c.failures else 0  # 3: checks failed (1 would be a crash)


def main(argv):
    # pydicom's complaints about the corpus's odd values are not ours.
    warnings.simplefilter("ignore")
    if len(argv) >= 2 and argv[1] == "inputs":
        cmd_inputs(argv[2:])
        return 0
    if len(argv) == 3 and argv[1] == "add-pixels":
        cmd_add_pixels(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "compare":
        return cmd_compare(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
