// Coercing an instance's attributes without parsing its pixel data (private
// to libiep, as it sees DCMTK data sets). iep-store applies patient ID
// reconciliation to every instance of a study: DCMTK parses only what comes
// before the instance's last element when that is a long value running to
// the end of the file (native pixel data, nearly always), the change is
// applied to that header, and the header is encoded again in the stored
// transfer syntax, followed by the last element's bytes as they are.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "iep/core/io.h"

namespace iep::pacs {

// How many of an instance's first bytes are looked at to find its header
// (smaller windows: tests and fuzzing).
inline constexpr std::size_t kHeadBytes = 64 * 1024;

struct Header {
  std::unique_ptr<DcmFileFormat> file;  // the meta header and the data set before the tail
  std::uint64_t tail_at = 0;            // where the last element begins in the file
  DcmTagKey tail_tag;                   // and its tag
  E_TransferSyntax xfer = EXS_Unknown;  // the stored transfer syntax
};

// The header of a Part 10 instance whose last element is a long value that
// runs to the end of the file, not encapsulated, not deflated: parsed from
// `head`, the first bytes of the file (at most kHeadBytes are looked at),
// `size` bytes in all. nullopt when the instance is not of that shape as
// far as `head` shows, or when its bytes do not parse (a full parse then
// says why).
std::optional<Header> parse_header(ByteSpan head, std::uint64_t size, const std::string& name,
                                   std::size_t window = kHeadBytes);

// The data set of instance `file` (all its bytes) after `apply`, in its
// stored transfer syntax: the header coerced and encoded again (explicit
// lengths, no group lengths), then the last element's bytes as stored.
// nullopt when parse_header() gives nothing, or when `apply` left an
// element at or after the last one's tag: coerce the whole data set then.
std::optional<Bytes> coerce_header(ByteSpan file, const std::function<void(DcmDataset&)>& apply,
                                   const std::string& name, std::size_t window = kHeadBytes);

// A data set encoded in `xfer` as coerce_header() encodes the header.
Bytes encode_dataset(DcmDataset& ds, E_TransferSyntax xfer, const std::string& name);

}  // namespace iep::pacs
