#include "pacs/coerce.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>

#include <algorithm>
#include <array>

#include "iep/core/error.h"
#include "iep/dicom/dicom_stream.h"

namespace iep::pacs {

std::optional<Header> parse_header(ByteSpan head, std::uint64_t size, const std::string& name,
                                   std::size_t window) {
  head = head.first(std::min(head.size(), window));
  if (head.size() >= size) return std::nullopt;  // no tail: the whole file is the header
  const auto meta = dicom::meta_header(head);
  if (!meta) return std::nullopt;
  // Only the shape is wanted of this reading (DCMTK parses the header):
  // values past a quarter of the window are left where they are.
  dicom::ReadLimits limits;
  limits.inline_value = window / 4;
  std::optional<dicom::File> f;
  try {
    f = dicom::File::parse_head(std::string(head.begin(), head.end()), size, name, limits);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!f || f->tail() == 0 || !f->part10) return std::nullopt;
  Header h;
  h.xfer = DcmXfer(meta->transfer_syntax_uid.c_str()).getXfer();
  const bool big = f->syntax == dicom::Syntax::explicit_be;
  if (h.xfer != (f->syntax == dicom::Syntax::implicit_le   ? EXS_LittleEndianImplicit
                 : f->syntax == dicom::Syntax::explicit_le ? EXS_LittleEndianExplicit
                 : big                                     ? EXS_BigEndianExplicit
                                                           : EXS_Unknown))
    return std::nullopt;  // a compressed syntax: its pixel data is encapsulated
  const dicom::Element& last = f->data.elements.back();
  // A value longer than 64 KiB has a 4-byte length: 8 bytes of tag and
  // length before it in implicit VR, 12 with the VR and 2 reserved bytes.
  const std::uint64_t header_len = f->syntax == dicom::Syntax::implicit_le ? 8 : 12;
  if (last.offset < meta->data_offset + header_len) return std::nullopt;
  h.tail_at = last.offset - header_len;
  const std::array<std::uint8_t, 4> tag =
      big ? std::array<std::uint8_t, 4>{static_cast<std::uint8_t>(last.group() >> 8),
                                        static_cast<std::uint8_t>(last.group()),
                                        static_cast<std::uint8_t>(last.element() >> 8),
                                        static_cast<std::uint8_t>(last.element())}
          : std::array<std::uint8_t, 4>{static_cast<std::uint8_t>(last.group()),
                                        static_cast<std::uint8_t>(last.group() >> 8),
                                        static_cast<std::uint8_t>(last.element()),
                                        static_cast<std::uint8_t>(last.element() >> 8)};
  if (!std::equal(tag.begin(), tag.end(), head.begin() + static_cast<std::ptrdiff_t>(h.tail_at)))
    return std::nullopt;
  h.tail_tag = DcmTagKey(last.group(), last.element());
  h.file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(head.data(), static_cast<offile_off_t>(h.tail_at));
  in.setEos();
  h.file->transferInit();
  const OFCondition c = h.file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  h.file->transferEnd();
  if (c.bad() || h.file->getDataset()->getOriginalXfer() != h.xfer) return std::nullopt;
  return h;
}

Bytes encode_dataset(DcmDataset& ds, E_TransferSyntax xfer, const std::string& name) {
  Bytes out;
  std::array<std::uint8_t, 64 * 1024> buf{};
  DcmOutputBufferStream s(buf.data(), buf.size());
  ds.transferInit();
  OFCondition c;
  do {
    c = ds.write(s, xfer, EET_ExplicitLength, nullptr, EGL_withoutGL, EPD_withoutPadding);
    void* p = nullptr;
    offile_off_t n = 0;
    s.flushBuffer(p, n);
    if (n > 0) {
      const auto* b = static_cast<const std::uint8_t*>(p);
      out.insert(out.end(), b, b + n);
    }
  } while (c == EC_StreamNotifyClient);
  ds.transferEnd();
  if (c.bad()) throw Error(Exit::invalid_dicom, name + ": cannot be encoded: " + c.text());
  return out;
}

std::optional<Bytes> coerce_header(ByteSpan file, const std::function<void(DcmDataset&)>& apply,
                                   const std::string& name, std::size_t window) {
  auto h = parse_header(file, file.size(), name, window);
  if (!h) return std::nullopt;
  DcmDataset& ds = *h->file->getDataset();
  apply(ds);
  const unsigned long n = ds.card();
  if (n > 0 && !(ds.getElement(n - 1)->getTag() < h->tail_tag)) return std::nullopt;
  Bytes out = encode_dataset(ds, h->xfer, name);
  out.insert(out.end(), file.begin() + static_cast<std::ptrdiff_t>(h->tail_at), file.end());
  return out;
}

}  // namespace iep::pacs
