// Clean Pixel Data: rules file parsing and blanking rectangles with DCMTK.
#include "iep/dicom/pixels.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimage/diregist.h>  // colour images for the lossy JPEG encoder
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/core/io.h"

namespace fs = std::filesystem;

namespace iep::pixels {
namespace {

// DCMTK keeps pixel values in host byte order; on a little-endian host the
// bytes of the decoded Pixel Data are then exactly the little-endian stream
// the standard describes, which is what the blanking below indexes.
static_assert(std::endian::native == std::endian::little,
              "pixels.cpp assumes a little-endian host");

// Decoded pixel data larger than this is refused: the size comes from the
// file's Rows/Columns/Frames, so it must not decide how much we allocate.
constexpr std::uint64_t kMaxDecodedBytes = std::uint64_t{2} << 30;
// Image dimensions in a rules file are bounded like the US attributes.
constexpr int kMaxDimension = 65535;

// ---------------------------------------------------------------- rules

[[noreturn]] void rule_error(const std::string& name, int line, const std::string& cause) {
  throw Error(Exit::usage, name + ":" + std::to_string(line) + ": " + cause);
}

// One word of a directive line: `key=value` or a bare word; quotes group
// spaces and '#' into a value ("..."; \" and \\ escape inside).
struct Token {
  std::string text;
};

std::vector<Token> tokenize(std::string_view line, const std::string& name, int lineno) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size() || line[i] == '#') break;  // end, or a comment to the end of the line
    std::string word;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '#') {
      if (line[i] != '"') {
        word += line[i++];
        continue;
      }
      ++i;  // opening quote
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < line.size() && (line[i] == '"' || line[i] == '\\')) c = line[i++];
        word += c;
      }
      if (!closed) rule_error(name, lineno, "unterminated quote");
    }
    out.push_back({std::move(word)});
  }
  return out;
}

using util::trim;

// A decimal integer in [lo, hi], all of `text`.
int parse_int(std::string_view text, int lo, int hi, const char* what, const std::string& name,
              int lineno) {
  text = trim(text);
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    rule_error(name, lineno, std::string(what) + " is not a number: \"" + std::string(text) + "\"");
  if (v < lo || v > hi)
    rule_error(name, lineno,
               std::string(what) + " must be between " + std::to_string(lo) + " and " +
                   std::to_string(hi) + ", not " + std::to_string(v));
  return v;
}

void parse_match(const std::vector<Token>& tokens, Rule& rule, const std::string& name,
                 int lineno) {
  bool seen[4] = {false, false, false, false};
  for (std::size_t t = 1; t < tokens.size(); ++t) {
    const std::string& w = tokens[t].text;
    auto eq = w.find('=');
    if (eq == std::string::npos)
      rule_error(name, lineno, "expected key=value after match, not \"" + w + "\"");
    std::string key = w.substr(0, eq);
    std::string value = w.substr(eq + 1);
    int k = key == "manufacturer" ? 0
            : key == "model"      ? 1
            : key == "rows"       ? 2
            : key == "columns"    ? 3
                                  : -1;
    if (k < 0)
      rule_error(name, lineno,
                 "unknown match key \"" + key + "\" (manufacturer, model, rows, columns)");
    if (seen[k]) rule_error(name, lineno, "match key \"" + key + "\" given twice");
    seen[k] = true;
    switch (k) {
      case 0: rule.manufacturer = value; break;
      case 1: rule.model = value; break;
      case 2: rule.rows = parse_int(value, 1, kMaxDimension, "rows", name, lineno); break;
      default: rule.columns = parse_int(value, 1, kMaxDimension, "columns", name, lineno); break;
    }
  }
}

Rect parse_blank(const std::vector<Token>& tokens, const std::string& name, int lineno) {
  // "blank 10,20,30,40" and "blank 10, 20, 30, 40" alike.
  std::string all;
  for (std::size_t t = 1; t < tokens.size(); ++t) all += tokens[t].text;
  std::vector<std::string_view> parts;
  std::string_view rest = all;
  for (;;) {
    auto comma = rest.find(',');
    parts.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (parts.size() != 4) rule_error(name, lineno, "blank needs X,Y,WIDTH,HEIGHT");
  Rect r;
  r.x = parse_int(parts[0], 0, kMaxDimension, "X", name, lineno);
  r.y = parse_int(parts[1], 0, kMaxDimension, "Y", name, lineno);
  r.width = parse_int(parts[2], 1, kMaxDimension, "WIDTH", name, lineno);
  r.height = parse_int(parts[3], 1, kMaxDimension, "HEIGHT", name, lineno);
  return r;
}

using util::ascii_lower;

bool icontains(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
  return it != haystack.end() || needle.empty();
}

// ---------------------------------------------------------------- DCMTK setup

void dcmtk_ready() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Our callers report errors once, themselves; DCMTK's logger stays quiet.
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    // Codecs are process-wide; registering them once under call_once keeps
    // concurrent workers from racing on DCMTK's registration flags. UIDs
    // are never changed by a codec: the de-identification replaces them.
    DcmRLEDecoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
    // For output=same on lossy JPEG: full-resolution chroma (no second
    // subsampling loss), YBR_FULL.
    DJEncoderRegistration::registerCodecs(ECC_lossyYCbCr, EUC_never, OFFalse, 0, 0, 0, OFTrue,
                                          ESS_444, OFFalse);
    DJLSDecoderRegistration::registerCodecs(EJLSUC_never);
    DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFTrue, 0, OFTrue, EJLSUC_never);
  });
}

// ---------------------------------------------------------------- image layout

struct Image {
  std::uint32_t rows = 0, columns = 0, samples = 0, frames = 1;
  std::uint32_t bits_allocated = 0, bits_stored = 0, high_bit = 0;
  bool is_signed = false;
  bool planar = false;      // Planar Configuration 1: one plane per sample
  bool packed_422 = false;  // uncompressed YBR_*_422: Y Y Cb Cr per two pixels
  std::string photometric;

  // Samples stored per frame (YBR 4:2:2 stores two per pixel).
  [[nodiscard]] std::uint64_t frame_samples() const {
    return std::uint64_t{rows} * columns * (packed_422 ? 2 : samples);
  }
  // Bytes of all frames (1-bit data is packed across frame boundaries).
  [[nodiscard]] std::uint64_t total_bytes() const {
    return (frame_samples() * frames * bits_allocated + 7) / 8;
  }
};

std::uint32_t get_us(DcmItem& ds, const DcmTagKey& tag, const std::string& name,
                     std::optional<Uint16> fallback = std::nullopt) {
  Uint16 v = 0;
  if (ds.findAndGetUint16(tag, v).bad()) {
    if (fallback) return *fallback;
    throw Error(Exit::invalid_dicom, name + ": no " + DcmTag(tag).getTagName() + " in the image");
  }
  return v;
}

std::string get_cs(DcmItem& ds, const DcmTagKey& tag) {
  OFString v;
  if (ds.findAndGetOFString(tag, v).bad()) return {};
  std::string s(v.c_str(), v.length());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// The image attributes, checked for a layout we can index safely.
Image read_image(DcmItem& ds, const std::string& name, bool encapsulated) {
  Image im;
  im.rows = get_us(ds, DCM_Rows, name);
  im.columns = get_us(ds, DCM_Columns, name);
  im.samples = get_us(ds, DCM_SamplesPerPixel, name, 1);
  im.bits_allocated = get_us(ds, DCM_BitsAllocated, name);
  im.bits_stored = get_us(ds, DCM_BitsStored, name, static_cast<Uint16>(im.bits_allocated));
  im.high_bit = get_us(ds, DCM_HighBit, name, static_cast<Uint16>(im.bits_stored - 1));
  im.is_signed = get_us(ds, DCM_PixelRepresentation, name, 0) == 1;
  im.planar = get_us(ds, DCM_PlanarConfiguration, name, 0) == 1;
  im.photometric = get_cs(ds, DCM_PhotometricInterpretation);
  Sint32 frames = 1;
  if (ds.tagExistsWithValue(DCM_NumberOfFrames) &&
      ds.findAndGetSint32(DCM_NumberOfFrames, frames).bad())
    throw Error(Exit::invalid_dicom, name + ": Number of Frames is not a number");
  if (frames < 1)
    throw Error(Exit::invalid_dicom, name + ": Number of Frames is " + std::to_string(frames));
  im.frames = static_cast<std::uint32_t>(frames);

  if (im.rows == 0 || im.columns == 0)
    throw Error(Exit::invalid_dicom, name + ": the image is empty");
  if (im.samples != 1 && im.samples != 3)
    throw Error(Exit::invalid_dicom, name + ": Samples per Pixel is " + std::to_string(im.samples));
  if (im.bits_allocated != 1 && im.bits_allocated != 8 && im.bits_allocated != 16 &&
      im.bits_allocated != 32)
    throw Error(Exit::invalid_dicom,
                name + ": Bits Allocated is " + std::to_string(im.bits_allocated));
  if (im.bits_stored < 1 || im.bits_stored > im.bits_allocated ||
      im.high_bit >= im.bits_allocated || im.high_bit + 1 < im.bits_stored)
    throw Error(Exit::invalid_dicom, name + ": Bits Stored " + std::to_string(im.bits_stored) +
                                         " / High Bit " + std::to_string(im.high_bit) +
                                         " do not fit Bits Allocated " +
                                         std::to_string(im.bits_allocated));
  im.packed_422 = !encapsulated && im.samples == 3 && im.photometric.ends_with("_422");
  if (im.packed_422 && (im.columns % 2 != 0 || im.planar || im.bits_allocated == 1))
    throw Error(Exit::invalid_dicom, name + ": " + im.photometric + " with odd Columns or planes");
  // Frame bits fit easily in 64 bits (2^32 pixels x 3 x 32); compare the
  // frame count by division so that a huge Number of Frames cannot wrap.
  const std::uint64_t frame_bits = im.frame_samples() * im.bits_allocated;
  if (im.frames > kMaxDecodedBytes * 8 / frame_bits)
    throw Error(Exit::invalid_dicom, name + ": the decoded image would be over the 2 GiB limit (" +
                                         std::to_string(im.rows) + " x " +
                                         std::to_string(im.columns) + " x " +
                                         std::to_string(im.frames) + " frames)");
  return im;
}

// The raw sample (as stored in Bits Allocated) for a pixel value.
std::uint64_t encode_sample(const Image& im, std::int64_t value) {
  const std::uint64_t stored_mask = (std::uint64_t{1} << im.bits_stored) - 1;
  const unsigned shift = im.high_bit + 1 - im.bits_stored;
  std::uint64_t raw = (static_cast<std::uint64_t>(value) & stored_mask) << shift;
  if (im.is_signed && value < 0) {
    // Sign-extend above the high bit, as writers of signed data do.
    const std::uint64_t all = (std::uint64_t{1} << im.bits_allocated) - 1;
    raw |= all & ~((std::uint64_t{1} << (im.high_bit + 1)) - 1);
  }
  return raw;
}

// The index of the palette entry that displays darkest, as a pixel value.
std::int64_t darkest_palette_index(DcmItem& ds, const Image& im) {
  const DcmTagKey descriptors[3] = {DCM_RedPaletteColorLookupTableDescriptor,
                                    DCM_GreenPaletteColorLookupTableDescriptor,
                                    DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey data[3] = {DCM_RedPaletteColorLookupTableData,
                             DCM_GreenPaletteColorLookupTableData,
                             DCM_BluePaletteColorLookupTableData};
  Uint16 entries16 = 0, first16 = 0;
  if (ds.findAndGetUint16(descriptors[0], entries16, 0).bad() ||
      ds.findAndGetUint16(descriptors[0], first16, 1).bad())
    return 0;
  const std::uint32_t entries = entries16 == 0 ? 65536 : entries16;
  const std::int64_t first = im.is_signed ? static_cast<Sint16>(first16) : first16;
  // Segmented or missing tables: no simple way to find black, so blank with
  // the first mapped value (the rectangle is overwritten all the same).
  const Uint16* channel[3] = {nullptr, nullptr, nullptr};
  unsigned long count[3] = {0, 0, 0};
  for (int c = 0; c < 3; ++c) {
    if (ds.findAndGetUint16Array(data[c], channel[c], &count[c]).bad() || channel[c] == nullptr ||
        count[c] < entries)
      return first;
  }
  std::uint32_t best = 0;
  std::uint64_t best_sum = UINT64_MAX;
  for (std::uint32_t i = 0; i < entries; ++i) {
    std::uint64_t sum = std::uint64_t{channel[0][i]} + channel[1][i] + channel[2][i];
    if (sum < best_sum) {
      best_sum = sum;
      best = i;
    }
  }
  return first + best;
}

// The value of each sample that displays black (see pixels.h).
std::vector<std::int64_t> black(DcmItem& ds, const Image& im, const std::string& name) {
  const std::string& pi = im.photometric;
  const std::int64_t half = std::int64_t{1} << (im.bits_stored - 1);
  const std::int64_t lowest = im.is_signed ? -half : 0;
  const std::int64_t highest = im.is_signed ? half - 1 : 2 * half - 1;
  if (pi == "MONOCHROME2" && im.samples == 1) return {lowest};
  if (pi == "MONOCHROME1" && im.samples == 1) return {highest};
  if (pi == "PALETTE COLOR" && im.samples == 1) return {darkest_palette_index(ds, im)};
  if (pi == "RGB" && im.samples == 3) return {0, 0, 0};
  if (pi.starts_with("YBR_") && im.samples == 3 && !im.is_signed) {
    // Black luma, neutral chroma; studio-range YBR_PARTIAL puts black at 16.
    std::int64_t y = 0;
    if (pi.starts_with("YBR_PARTIAL") && im.bits_stored >= 8)
      y = std::int64_t{16} << (im.bits_stored - 8);
    return {y, half, half};
  }
  throw Error(Exit::invalid_dicom, name + ": cannot blank Photometric Interpretation \"" + pi +
                                       "\" with " + std::to_string(im.samples) + " samples");
}

// Overwrites every rectangle (clipped) in every frame of `data`.
void blank(std::uint8_t* data, const Image& im, const std::vector<Rect>& rects,
           const std::vector<std::int64_t>& values) {
  std::vector<std::uint64_t> raw;
  for (std::int64_t v : values) raw.push_back(encode_sample(im, v));
  const std::uint32_t bytes = im.bits_allocated / 8;  // 0 for 1-bit data
  const std::uint64_t plane = std::uint64_t{im.rows} * im.columns;

  auto put = [&](std::uint64_t sample_index, std::uint64_t value) {
    if (im.bits_allocated == 1) {
      // Pixel n is bit n % 8 of byte n / 8, the first pixel in the low bit.
      const std::uint8_t bit = static_cast<std::uint8_t>(1u << (sample_index % 8));
      std::uint8_t& b = data[sample_index / 8];
      b = value ? static_cast<std::uint8_t>(b | bit) : static_cast<std::uint8_t>(b & ~bit);
      return;
    }
    std::uint8_t* p = data + sample_index * bytes;
    for (std::uint32_t i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(value >> (8 * i));
  };

  for (const Rect& r : rects) {
    // Clip in 64 bits: the rule's numbers are bounded, the image is not ours.
    std::uint64_t x0 = std::min<std::uint64_t>(static_cast<std::uint64_t>(r.x), im.columns);
    std::uint64_t y0 = std::min<std::uint64_t>(static_cast<std::uint64_t>(r.y), im.rows);
    std::uint64_t x1 =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(r.x) + r.width, im.columns);
    std::uint64_t y1 = std::min<std::uint64_t>(static_cast<std::uint64_t>(r.y) + r.height, im.rows);
    if (r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 || x0 >= x1 || y0 >= y1) continue;
    if (im.packed_422) {
      // Two pixels share Cb/Cr: widen to whole pairs (blanking one more
      // column at most, never less than asked).
      x0 &= ~std::uint64_t{1};
      x1 = (x1 + 1) & ~std::uint64_t{1};
    }
    for (std::uint64_t f = 0; f < im.frames; ++f) {
      const std::uint64_t frame = f * im.frame_samples();
      for (std::uint64_t y = y0; y < y1; ++y) {
        if (im.packed_422) {
          for (std::uint64_t x = x0; x < x1; x += 2) {
            const std::uint64_t s = frame + (y * im.columns + x) * 2;  // Y0 Y1 Cb Cr
            put(s, raw[0]);
            put(s + 1, raw[0]);
            put(s + 2, raw[1]);
            put(s + 3, raw[2]);
          }
          continue;
        }
        for (std::uint64_t x = x0; x < x1; ++x) {
          for (std::uint32_t c = 0; c < im.samples; ++c) {
            const std::uint64_t s = im.planar ? frame + c * plane + y * im.columns + x
                                              : frame + (y * im.columns + x) * im.samples + c;
            put(s, raw[c]);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- output file

// DCMTK 3.6.7's JPEG-LS encoder pads an odd-length frame with one byte
// after the EOI marker that it never initialises: left alone, that byte
// carries leftover heap memory (possibly another file's data) into the
// output. A byte after FF D9 can only be that padding, so set it to 0.
void zero_fragment_padding(DcmPixelData& pixels, E_TransferSyntax xfer,
                           const DcmRepresentationParameter* param) {
  DcmPixelSequence* seq = nullptr;
  if (pixels.getEncapsulatedRepresentation(xfer, param, seq).bad() || seq == nullptr) return;
  // Item 0 is the Basic Offset Table.
  for (unsigned long i = 1; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* bytes = nullptr;
    if (seq->getItem(item, i).bad() || item == nullptr) continue;
    const Uint32 n = item->getLength();
    if (n < 3 || item->getUint8Array(bytes).bad() || bytes == nullptr) continue;
    if (bytes[n - 3] == 0xFF && bytes[n - 2] == 0xD9) bytes[n - 1] = 0;
  }
}

// The transfer syntax to write, given the input's (see pixels.h).
E_TransferSyntax output_xfer(E_TransferSyntax in, const Rule& rule, const std::string& name) {
  if (DcmXfer(in).isNotEncapsulated()) return in;  // native, deflated or big endian: as read
  switch (in) {
    case EXS_RLELossless:
    case EXS_JPEGProcess14:
    case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless: return in;
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
    case EXS_JPEGLSLossy:
      // Never a second lossy generation unless the rule asks for it.
      return rule.output == Rule::Output::same ? in : EXS_LittleEndianExplicit;
    default:
      throw Error(Exit::invalid_dicom, name + ": cannot decode pixel data in " +
                                           DcmXfer(in).getXferName() +
                                           " (no DCMTK 3.6.7 decoder for it)");
  }
}

}  // namespace

// ---------------------------------------------------------------- Rules

Rules Rules::load(const fs::path& file) {
  return parse(read_small_file(file), file.string());
}

Rules Rules::parse(std::string_view text, const std::string& name) {
  Rules out;
  Rule* current = nullptr;
  auto finish_rule = [&] {
    if (current != nullptr && current->rects.empty())
      rule_error(name, current->line, "rule has no blank rectangle");
  };
  int lineno = 0;
  while (!text.empty()) {
    ++lineno;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) rule_error(name, lineno, "NUL byte in line");

    std::vector<Token> tokens = tokenize(line, name, lineno);
    if (tokens.empty()) continue;
    const std::string& directive = tokens[0].text;
    if (directive == "match") {
      finish_rule();
      Rule rule;
      rule.line = lineno;
      parse_match(tokens, rule, name, lineno);
      out.rules.push_back(std::move(rule));
      current = &out.rules.back();
    } else if (directive == "blank") {
      if (current == nullptr) rule_error(name, lineno, "blank before any match");
      current->rects.push_back(parse_blank(tokens, name, lineno));
    } else if (directive == "output") {
      if (current == nullptr) rule_error(name, lineno, "output before any match");
      if (tokens.size() != 2 || (tokens[1].text != "lossless" && tokens[1].text != "same"))
        rule_error(name, lineno, "output must be lossless or same");
      current->output = tokens[1].text == "same" ? Rule::Output::same : Rule::Output::lossless;
    } else {
      rule_error(name, lineno, "unknown directive \"" + directive + "\" (match, blank, output)");
    }
  }
  finish_rule();
  if (out.rules.empty()) throw Error(Exit::usage, name + ": no rules (no match line)");
  return out;
}

const Rule* Rules::match(std::string_view manufacturer, std::string_view model, int rows,
                         int columns) const {
  for (const Rule& r : rules) {
    if (!icontains(manufacturer, r.manufacturer)) continue;
    if (!icontains(model, r.model)) continue;
    if (r.rows != 0 && r.rows != rows) continue;
    if (r.columns != 0 && r.columns != columns) continue;
    return &r;
  }
  return nullptr;
}

// ---------------------------------------------------------------- clean

void clean(const fs::path& in, const fs::path& out, const Rule& rule) {
  dcmtk_ready();
  const std::string name = in.string();
  if (fs::exists(fs::symlink_status(out)))
    throw Error(Exit::output, out.string() + ": already exists; refusing to overwrite it");
  { FileSource readable(in); }  // Error(Exit::input) naming the file when it cannot be read

  DcmFileFormat ff;
  OFCondition st = ff.loadFile(OFFilename(in.c_str()), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                               ERM_autoDetect);
  if (st.bad())
    throw Error(Exit::invalid_dicom, name + ": does not parse as DICOM (" + st.text() + ")");
  DcmDataset& ds = *ff.getDataset();
  const E_TransferSyntax in_xfer = ds.getOriginalXfer();
  const bool encapsulated = DcmXfer(in_xfer).isEncapsulated();

  DcmElement* elem = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr)
    throw Error(Exit::invalid_dicom, name + ": no Pixel Data");
  auto* pixels = dynamic_cast<DcmPixelData*>(elem);
  if (pixels == nullptr) throw Error(Exit::invalid_dicom, name + ": Pixel Data has a wrong VR");

  // Checked before decoding: the decoders allocate what these attributes say.
  (void)read_image(ds, name, encapsulated);
  const E_TransferSyntax out_xfer = output_xfer(in_xfer, rule, name);

  if (encapsulated) {
    st = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (st.bad() || !ds.canWriteXfer(EXS_LittleEndianExplicit))
      throw Error(Exit::invalid_dicom, name + ": cannot decode pixel data in " +
                                           DcmXfer(in_xfer).getXferName() + " (" +
                                           (st.bad() ? st.text() : "no decoder") + ")");
    // Forget the compressed original so that writing re-encodes our pixels.
    ds.removeAllButCurrentRepresentations();
  }
  // The decoder may have changed the layout (JPEG YBR -> RGB, RLE -> planes).
  const Image im = read_image(ds, name, encapsulated);

  Uint8* data = nullptr;
  if (pixels->getUint8Array(data).bad() || data == nullptr)
    throw Error(Exit::invalid_dicom, name + ": cannot read the Pixel Data");
  if (pixels->getLength() < im.total_bytes())
    throw Error(Exit::invalid_dicom,
                name + ": Pixel Data is " + std::to_string(pixels->getLength()) +
                    " bytes, the image needs " + std::to_string(im.total_bytes()));
  blank(data, im, rule.rects, black(ds, im, name));

  st = ds.putAndInsertString(DCM_BurnedInAnnotation, "NO");
  if (st.bad())
    throw Error(Exit::internal, name + ": cannot set Burned In Annotation: " + st.text());

  if (DcmXfer(out_xfer).isEncapsulated()) {
    DJ_RPLossless jpeg_lossless;
    DJ_RPLossy jpeg_lossy;  // quality 90
    DJLSRepresentationParameter jpls_lossless(2, OFTrue);
    DJLSRepresentationParameter jpls_near(2, OFFalse);
    const DcmRepresentationParameter* param = nullptr;
    switch (out_xfer) {
      case EXS_JPEGProcess14:
      case EXS_JPEGProcess14SV1: param = &jpeg_lossless; break;
      case EXS_JPEGProcess1:
      case EXS_JPEGProcess2_4: param = &jpeg_lossy; break;
      case EXS_JPEGLSLossless: param = &jpls_lossless; break;
      case EXS_JPEGLSLossy: param = &jpls_near; break;
      default: break;  // RLE has no parameters
    }
    // DCMTK's encoders record themselves in Derivation Description; after a
    // lossless round trip the image is what it was, so keep the old text.
    std::optional<std::string> derivation;
    if (OFString d; ds.findAndGetOFStringArray(DCM_DerivationDescription, d).good())
      derivation.emplace(d.c_str(), d.length());
    st = ds.chooseRepresentation(out_xfer, param);
    if (st.bad() || !ds.canWriteXfer(out_xfer))
      throw Error(Exit::invalid_dicom, name + ": cannot re-encode the cleaned pixels as " +
                                           DcmXfer(out_xfer).getXferName() + " (" +
                                           (st.bad() ? st.text() : "no encoder") + ")");
    if (DcmXfer(out_xfer).isLossless()) {
      if (derivation)
        ds.putAndInsertOFStringArray(DCM_DerivationDescription, derivation->c_str());
      else
        ds.findAndDeleteElement(DCM_DerivationDescription);
    }
    zero_fragment_padding(*pixels, out_xfer, param);
  }

  AtomicFile tmp(out);  // DCMTK writes the temporary by name; commit() syncs and links it
  st = ff.saveFile(OFFilename(tmp.temp_path().c_str()), out_xfer, EET_ExplicitLength, EGL_recalcGL,
                   EPD_noChange, 0, 0, EWM_fileformat);
  if (st.bad()) throw Error(Exit::output, out.string() + ": cannot write: " + st.text());
  tmp.commit();
}

}  // namespace iep::pixels
