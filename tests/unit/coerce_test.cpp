// Coercing an instance's header without parsing its pixel data
// (lib/src/pacs/coerce.h), against DCMTK parsing and encoding the whole
// instance with the same change: the same bytes, on real files.
#include "../../lib/src/pacs/coerce.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <doctest/doctest.h>

#include <string>

#include "test_util.h"

using iep::Bytes;
using iep::ByteSpan;
namespace fs = std::filesystem;

namespace {

// What reconciliation does to a data set: a new Patient ID, and the old one
// kept in a sequence.
void coerce(DcmDataset& ds) {
  OFString old;
  (void)ds.findAndGetOFString(DCM_PatientID, old);
  REQUIRE(ds.putAndInsertString(DCM_PatientID, "LOCAL-0001").good());
  DcmItem* item = nullptr;
  REQUIRE(ds.findOrCreateSequenceItem(DCM_OriginalAttributesSequence, item, -2).good());
  DcmItem* mod = nullptr;
  REQUIRE(item->findOrCreateSequenceItem(DCM_ModifiedAttributesSequence, mod, -2).good());
  REQUIRE(mod->putAndInsertOFStringArray(DCM_PatientID, old).good());
  REQUIRE(item->putAndInsertString(DCM_ModifyingSystem, "IEP").good());
}

// The oracle: DCMTK parses the whole file, applies the change and encodes
// the whole data set.
Bytes coerced_whole(const Bytes& file) {
  DcmFileFormat ff;
  DcmInputBufferStream in;
  in.setBuffer(file.data(), static_cast<offile_off_t>(file.size()));
  in.setEos();
  ff.transferInit();
  REQUIRE(ff.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength).good());
  ff.transferEnd();
  DcmDataset& ds = *ff.getDataset();
  coerce(ds);
  return iep::pacs::encode_dataset(ds, ds.getOriginalXfer(), "whole");
}

// A real CT slice made larger than the header window: CT_small's pixel
// data repeated to 256 x 256, saved in explicit VR little endian, without
// the Data Set Trailing Padding it has after its pixel data.
Bytes large_explicit_ct() {
  DcmFileFormat ff;
  REQUIRE(ff.loadFile((iep::test::kPydicom / "CT_small.dcm").c_str()).good());
  DcmDataset& ds = *ff.getDataset();
  const Uint8* px = nullptr;
  unsigned long n = 0;
  REQUIRE(ds.findAndGetUint8Array(DCM_PixelData, px, &n).good());
  Bytes big;
  while (big.size() < 256 * 256 * 2) big.insert(big.end(), px, px + n);
  big.resize(256 * 256 * 2);
  REQUIRE(ds.putAndInsertUint16(DCM_Rows, 256).good());
  REQUIRE(ds.putAndInsertUint16(DCM_Columns, 256).good());
  REQUIRE(ds.putAndInsertUint8Array(DCM_PixelData, big.data(), big.size()).good());
  REQUIRE(ds.findAndDeleteElement(DCM_DataSetTrailingPadding).good());
  const fs::path p = iep::test::scratch("coerce") / "ct256.dcm";
  REQUIRE(ff.saveFile(p.c_str(), EXS_LittleEndianExplicit).good());
  return iep::test::read_bytes(p);
}

}  // namespace

TEST_CASE("the header coerced alone gives the bytes of the whole data set coerced") {
  SUBCASE("implicit VR little endian (SC_rgb_jpeg_dcmd.dcm)") {
    const Bytes file = iep::test::read_bytes(iep::test::kPydicom / "SC_rgb_jpeg_dcmd.dcm");
    REQUIRE(file.size() > iep::pacs::kHeadBytes);
    const auto got = iep::pacs::coerce_header(file, coerce, "SC_rgb");
    REQUIRE(got);
    CHECK(*got == coerced_whole(file));
  }
  SUBCASE("explicit VR little endian (CT_small.dcm at 256 x 256)") {
    const Bytes file = large_explicit_ct();
    const auto h = iep::pacs::parse_header(file, file.size(), "ct256");
    REQUIRE(h);
    CHECK(h->tail_tag == DCM_PixelData);
    CHECK(h->xfer == EXS_LittleEndianExplicit);
    CHECK(file.size() - h->tail_at == 12 + 256 * 256 * 2);
    OFString id;
    CHECK(h->file->getDataset()->findAndGetOFString(DCM_PatientID, id).good());
    CHECK(h->file->getDataset()->tagExists(DCM_Rows));
    CHECK_FALSE(h->file->getDataset()->tagExists(DCM_PixelData));
    const auto got = iep::pacs::coerce_header(file, coerce, "ct256");
    REQUIRE(got);
    CHECK(*got == coerced_whole(file));
  }
}

TEST_CASE("instances of another shape are left to a whole parse") {
  using iep::pacs::coerce_header;
  SUBCASE("no long last element (waveform_ecg.dcm ends in short private elements)") {
    const Bytes file = iep::test::read_bytes(iep::test::kPydicom / "waveform_ecg.dcm");
    CHECK_FALSE(coerce_header(file, coerce, "ecg"));
  }
  SUBCASE("encapsulated pixel data (J2K_pixelrep_mismatch.dcm)") {
    const Bytes file = iep::test::read_bytes(iep::test::kPydicom / "J2K_pixelrep_mismatch.dcm");
    REQUIRE(file.size() > iep::pacs::kHeadBytes);
    CHECK_FALSE(coerce_header(file, coerce, "j2k"));
  }
  SUBCASE("a file no larger than the header window (CT_small.dcm)") {
    const Bytes file = iep::test::read_bytes(iep::test::kPydicom / "CT_small.dcm");
    CHECK_FALSE(coerce_header(file, coerce, "ct"));
  }
  SUBCASE("an element after the pixel data (Data Set Trailing Padding)") {
    DcmFileFormat ff;
    REQUIRE(ff.loadFile((iep::test::kPydicom / "SC_rgb_jpeg_dcmd.dcm").c_str()).good());
    const Uint8 pad[130] = {};
    REQUIRE(ff.getDataset()->putAndInsertUint8Array(DCM_DataSetTrailingPadding, pad, 130).good());
    const fs::path p = iep::test::scratch("coerce-pad") / "padded.dcm";
    REQUIRE(ff.saveFile(p.c_str(), EXS_LittleEndianImplicit).good());
    const Bytes file = iep::test::read_bytes(p);
    CHECK_FALSE(coerce_header(file, coerce, "padded"));
  }
  SUBCASE("a change at or after the pixel data") {
    const Bytes file = large_explicit_ct();
    CHECK_FALSE(coerce_header(
        file,
        [](DcmDataset& ds) {
          REQUIRE(ds.putAndInsertString(DcmTagKey(0x7fe1, 0x0010), "PRIVATE CREATOR").good());
        },
        "ct256"));
  }
  SUBCASE("a head cut before the pixel data begins") {
    const Bytes file = large_explicit_ct();
    const auto h = iep::pacs::parse_header(ByteSpan(file).first(200), file.size(), "ct256");
    CHECK_FALSE(h);
  }
}
