#!/usr/bin/python3
"""Generate a realistic CT study for benchmarks and tests.

    make-study.py OUTDIR [--slices 500] [--size 512] [--seed 1]

Starts from the real CT_small.dcm that pydicom ships (a GE HiSpeed CT slice
with its private tags) and writes OUTDIR/IM00001.dcm ... : one study, one
series, distinct SOP Instance UIDs (2.25 form), slice positions stepping
along z, and SIZE x SIZE signed 16-bit pixels in explicit VR little endian.
The pixels are the real 128x128 image upscaled, plus a smooth field that
drifts from slice to slice and a little noise, so compressors see data like
a real scan rather than one image repeated. The defaults make ~260 MB;
--slices 10000 makes ~5 GiB. Uses the Debian python3 (pydicom, numpy).
"""

import argparse
import copy
import os
import sys

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_SMALL = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm"


def template_path():
    if os.path.exists(CT_SMALL):
        return CT_SMALL
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    if path is None:
        sys.exit("make-study.py: CT_small.dcm not found (install python3-pydicom)")
    return path


def upscale(image, size):
    """Bilinear resize of a 2-D array to size x size."""
    h, w = image.shape
    ys = np.linspace(0, h - 1, size)
    xs = np.linspace(0, w - 1, size)
    y0 = np.floor(ys).astype(np.intp)
    x0 = np.floor(xs).astype(np.intp)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    img = image.astype(np.float32)
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--slices", type=int, default=500)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1, help="noise seed (UIDs are always fresh)")
    args = ap.parse_args()
    if not 1 <= args.slices <= 99999:
        ap.error("--slices must be 1..99999")
    if not 8 <= args.size <= 4096:
        ap.error("--size must be 8..4096")

    src = pydicom.dcmread(template_path())
    base = upscale(src.pixel_array, args.size)
    size = args.size

    # One study, one series, one frame of reference for the whole run.
    study_uid = generate_uid(prefix=None)
    series_uid = generate_uid(prefix=None)
    frame_uid = generate_uid(prefix=None)

    ds = copy.deepcopy(src)
    if (0xFFFC, 0xFFFC) in ds:  # trailing padding belongs to the original file
        del ds[0xFFFC, 0xFFFC]
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.StudyDescription = "IEP BENCH CT"
    ds.SeriesDescription = f"{args.slices} slices {size}x{size}"
    ds.Rows = size
    ds.Columns = size
    spacing = float(src.PixelSpacing[0]) * src.Rows / size
    ds.PixelSpacing = [f"{spacing:.6f}", f"{spacing:.6f}"]
    thickness = 1.0
    ds.SliceThickness = f"{thickness:.6f}"
    ds.SpacingBetweenSlices = f"{thickness:.6f}"
    x0, y0, z0 = (float(v) for v in src.ImagePositionPatient)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian = True
    ds.is_implicit_VR = False

    rng = np.random.default_rng(args.seed)
    coords = np.linspace(0.0, 2.0 * np.pi, size, dtype=np.float32)
    os.makedirs(args.outdir, exist_ok=True)
    for i in range(args.slices):
        t = i / max(args.slices, 1)
        # A smooth field that drifts with z, and a shift of the anatomy, so
        # neighbouring slices are alike but never equal.
        field = (60.0 * np.sin(coords + 6.0 * t))[None, :] + (
            40.0 * np.cos(2.0 * coords - 4.0 * t)
        )[:, None]
        shifted = np.roll(base, int(round(8 * np.sin(2 * np.pi * t))), axis=0)
        noise = rng.integers(-6, 7, size=(size, size), dtype=np.int16)
        pixels = np.clip(shifted + field, -2000, 4000).astype(np.int16) + noise

        sop_uid = generate_uid(prefix=None)
        ds.SOPInstanceUID = sop_uid
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
        ds.InstanceNumber = i + 1
        z = z0 + i * thickness
        ds.ImagePositionPatient = [f"{x0:.6f}", f"{y0:.6f}", f"{z:.6f}"]
        ds.SliceLocation = f"{z:.6f}"
        ds.PixelData = pixels.astype("<i2").tobytes()
        ds["PixelData"].VR = "OW"
        path = os.path.join(args.outdir, f"IM{i + 1:05d}.dcm")
        ds.save_as(path, write_like_original=False)


if __name__ == "__main__":
    main()
