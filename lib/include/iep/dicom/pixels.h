// Clean Pixel Data: blanking burned-in text in DICOM images.
//
// Ultrasound, secondary captures and the like often carry the patient's name
// burned into the pixels. A site describes where such text sits for each
// device (manufacturer, model, image size) in a rules file, like CTP's pixel
// anonymiser; clean() overwrites those rectangles with black in every frame,
// decoding and re-encoding compressed pixel data with DCMTK's codecs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace iep::pixels {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
};

// One rule: which images it applies to (every given criterion must hold),
// and the rectangles to blank in every frame.
struct Rule {
  std::string manufacturer;  // case-insensitive substring of Manufacturer (0008,0070); empty = any
  std::string
      model;  // case-insensitive substring of Manufacturer's Model Name (0008,1090); empty = any
  int rows = 0, columns = 0;  // exact; 0 = any
  std::vector<Rect> rects;
  // For lossy inputs: write Explicit VR Little Endian (lossless), or
  // re-encode with the input's lossy transfer syntax (same).
  enum class Output { lossless, same } output = Output::lossless;
  int line = 0;  // where it starts in the rules file (for messages)
};

class Rules {
 public:
  // File format, one directive per line, '#' comments:
  //   match [manufacturer="..."] [model="..."] [rows=N] [columns=N]   (starts a rule)
  //   blank X,Y,WIDTH,HEIGHT                                            (adds a rectangle to the
  //   current rule) output lossless|same                                              (optional,
  //   per rule)
  // Errors: Error(Exit::usage, "FILE:LINE: cause"): unknown directive, blank before any match,
  // a rule without rectangles, bad numbers, negative/zero sizes, unterminated quotes.
  // An unreadable file is Error(Exit::input); a file without rules is Exit::usage.
  static Rules load(const std::filesystem::path& file);
  // The same, from text already in memory; `name` stands for FILE in messages.
  static Rules parse(std::string_view text, const std::string& name);
  // The first rule that matches these values of the file, or nullptr.
  const Rule* match(std::string_view manufacturer, std::string_view model, int rows,
                    int columns) const;
  std::vector<Rule> rules;
};

// Reads DICOM file `in`, blanks the rule's rectangles (clipped to the image)
// in every frame with the value that displays black, and writes `out` (which
// must not exist; written beside it and linked into place, nothing left on
// failure). Black is: the lowest stored value for MONOCHROME2 (0 unsigned,
// -2^(BitsStored-1) signed), the highest for MONOCHROME1, 0 for RGB,
// Y=0 (16 scaled for YBR_PARTIAL) with Cb=Cr=2^(BitsStored-1) for YBR (Cb=Cr=0
// would be green), and the index of the darkest palette entry for PALETTE
// COLOR. In YBR_FULL_422 a rectangle is widened to even columns, since two
// pixels share their chroma.
//
// Transfer syntax of the output: the input's when the input is uncompressed
// or lossless (RLE, JPEG lossless process 14 / SV1, JPEG-LS lossless,
// deflate); for a lossy input (JPEG baseline/extended, JPEG-LS near-lossless)
// Explicit VR Little Endian when output=lossless, or the same lossy syntax
// when output=same. Sets Burned In Annotation (0028,0301) to NO; everything
// else is unchanged (DCMTK updates Lossy Image Compression Ratio/Method when
// it re-encodes lossily; UIDs are kept).
//
// Errors: Error(Exit::input) when `in` cannot be read,
// Error(Exit::invalid_dicom, "IN: cause") when it does not parse or its
// pixel data cannot be decoded (e.g. JPEG 2000, which DCMTK 3.6.7 cannot
// decode) or is larger than 2 GiB decoded, Error(Exit::output, ...) for
// writes (including `out` existing).
void clean(const std::filesystem::path& in, const std::filesystem::path& out, const Rule& rule);

}  // namespace iep::pixels
