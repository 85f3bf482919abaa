// Fuzzes iep-store's coercion of an instance's header alone
// (lib/src/pacs/coerce.h), which reads instances a hostile sender packed:
// any bytes give nothing (a whole parse then decides) or the coerced data
// set, whose header parses back with the new Patient ID and which ends in
// the input's last element as stored. The first two bytes (a Part 10
// preamble's, which nothing reads) choose the header window, so that small
// inputs reach the whole path.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../../lib/src/pacs/coerce.h"
#include "iep/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t window = 256 + (data[0] | data[1] << 8) % 16384;
  const iep::ByteSpan file(data, size);
  const auto apply = [](DcmDataset& ds) { (void)ds.putAndInsertString(DCM_PatientID, "FUZZ"); };
  std::optional<iep::Bytes> got;
  try {
    got = iep::pacs::coerce_header(file, apply, "fuzz", window);
  } catch (const iep::Error& e) {
    if (e.code() != iep::Exit::invalid_dicom) __builtin_trap();
    return 0;
  }
  if (!got) return 0;
  const auto h = iep::pacs::parse_header(file, size, "fuzz", window);
  if (!h) __builtin_trap();  // the same bytes, read the same way
  const std::size_t tail = size - h->tail_at;
  if (got->size() < tail || !std::equal(file.end() - static_cast<std::ptrdiff_t>(tail), file.end(),
                                        got->end() - static_cast<std::ptrdiff_t>(tail)))
    __builtin_trap();
  DcmDataset ds;
  DcmInputBufferStream in;
  in.setBuffer(got->data(), static_cast<offile_off_t>(got->size() - tail));
  in.setEos();
  ds.transferInit();
  const OFCondition c = ds.read(in, h->xfer, EGL_noChange, DCM_MaxReadLength);
  ds.transferEnd();
  OFString id;
  if (c.bad() || ds.findAndGetOFString(DCM_PatientID, id).bad() || id != "FUZZ") __builtin_trap();
  return 0;
}
