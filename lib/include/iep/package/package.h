// Packages: pack DICOM files into a plain package, seal it for recipient
// sites, open and verify sealed or plain packages. The format is specified
// in iep-package(5); this is the one place that knows it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"
#include "iep/package/manifest.h"
#include "iep/package/minisign.h"
#include "iep/package/site.h"

namespace iep::package {

inline constexpr const char* kManifestName = "MANIFEST.json";
inline constexpr const char* kManifestSigName = "MANIFEST.json.minisig";

// ---- Planning: which files, in which order, under which names ----------

struct PlannedFile {
  std::filesystem::path source;
  ManifestFile entry;  // everything but the hash, known once it is read
  // Where its pixel data begins, when that is at least kFramedTail bytes
  // to the end (0: no such tail): a compressed package holds that tail in
  // frames of its own, which a stage that passes pixel data on unchanged
  // copies as they are (iep-anon's pipe).
  std::uint64_t tail = 0;
};
inline constexpr std::uint64_t kFramedTail = 64 * 1024;

struct Plan {
  StudySummary study;
  std::vector<PlannedFile> files;  // deterministic order
};

struct PackInput {
  std::vector<std::filesystem::path> paths;        // files, folders, DICOMDIRs
  std::vector<std::filesystem::path> attachments;  // non-DICOM files to carry
  // Reports (a PDF, or UTF-8 text; pacs/report.h report_kind()): carried
  // as attachments marked as the study's report in the manifest.
  std::vector<std::filesystem::path> reports = {};
};

// The files the inputs name: files as given, folders walked recursively in
// name order, a folder holding a DICOMDIR (or a DICOMDIR given directly)
// read through it (then *saw_dicomdir is set). Error(Exit::input) names a
// missing input.
std::vector<std::filesystem::path> input_files(const std::vector<std::filesystem::path>& paths,
                                               bool* saw_dicomdir = nullptr);

// Scans the inputs and groups them by study. Folders are walked
// recursively in name order; a folder holding a DICOMDIR is read through it.
// Non-DICOM files are refused, all named in one Error(Exit::invalid_dicom).
std::vector<Plan> plan(const PackInput& input);
// As plan(), but exactly one study: Error(Exit::several_studies) otherwise.
Plan plan_one(const PackInput& input);

// ---- Writing ------------------------------------------------------------

struct WriteOptions {
  bool compress = true;  // zstd around the tar
  int level = 1;
  int workers = 2;  // zstd worker threads (0: compress on the calling thread)
};

// Writes a plain package (tar, optionally zstd) to `out`, signed by `self`.
// Does not call out.finish(). The plan is consumed: its entries move into
// the manifest, so a study of many files is held in memory once.
Manifest write_plain(Plan plan, const SiteIdentity& self, Sink& out,
                     const WriteOptions& options = {});

// Writes one plain package per study into `dir` (created if needed), named
// STUDY-UID.tar.zst; packages already there are kept, so a re-run after a
// failure finishes the rest. Returns the files written.
// The file name pack_split() gives a study's package: STUDY-UID.tar.zst
// (.tar without compression); a UID that cannot name a file is replaced by
// a stable digest.
std::string split_file_name(const std::string& study_uid, const WriteOptions& options = {});

std::vector<std::filesystem::path> pack_split(const PackInput& input, const SiteIdentity& self,
                                              const std::filesystem::path& dir,
                                              const WriteOptions& options = {});

// The trusted comment of the signature over the sealed bytes (iep-package(5)):
//   iep-sealed package=ID sender=SITE created=TIME to=SITE1,SITE2
// signed with the sender's key, so that a hub can route by `to` and check
// the sender without reading the package. Packages sealed before `to`
// existed have none; they stay readable, but a hub does not route them.
struct SealedStatement {
  std::string package_id;
  std::string sender;
  std::string created;
  std::optional<std::vector<std::string>> to;  // recipient site names, in manifest order

  [[nodiscard]] std::string encode() const;
  // Throws Error(Exit::bad_signature) when it is not an iep-sealed statement
  // or a field is malformed. Unknown fields are ignored.
  static SealedStatement parse(std::string_view trusted_comment);
};
// Checks a signature over sealed bytes (given as their BLAKE2b-512 prehash,
// minisign::Prehash) against the card of the site said to have made it: the
// key, both signatures, and that the statement names that site as sender.
// Needs nothing secret: this is what a hub checks. Returns the statement;
// throws Error(Exit::bad_signature) naming `name`.
SealedStatement check_sealed_signature(const minisign::Signature& sig,
                                       const std::array<std::uint8_t, 64>& digest,
                                       const SiteCard& sender, const std::string& name);
// The most bytes of recipient names a statement carries (minisign limits a
// trusted comment to 8 KiB); seal() refuses more.
inline constexpr std::size_t kMaxStatementRecipientBytes = 7000;

struct Sealed {
  Manifest manifest;
  minisign::Signature signature;  // by the sender, over the sealed bytes
  // BLAKE2b-512 of the sealed bytes: the prehash the signature covers, and
  // the package's hash on a hub (what `b2sum` prints).
  std::array<std::uint8_t, 64> digest{};
};

// Packs and seals in one stream: the plain package encrypted (age) to every
// recipient, signed over the sealed bytes. Does not call out.finish().
Sealed seal(Plan plan, const SiteIdentity& self, const std::vector<SiteCard>& to, Sink& out,
            const WriteOptions& options = {});

// Seals a plain package read from `plain` (e.g. from iep-pack or iep-anon on
// stdin): every entry is checked against its signed manifest (signed by
// this site or by a site in `trust`), and the manifest is re-issued with a
// new package id, this site as sender and the recipients.
Sealed seal_plain(Source& plain, const std::string& name, const SiteIdentity& self,
                  const TrustStore& trust, const std::vector<SiteCard>& to, Sink& out,
                  const WriteOptions& options = {});

// What a rewriter makes of one file of a plain package: the file to carry
// instead and its manifest entry (path and DICOM fields; size and hash are
// computed here).
struct Rewritten {
  std::filesystem::path file;
  ManifestFile entry;
};
// Called with each entry's name, a temporary copy of its content and an
// empty scratch folder for the replacement; returns the replacement, or
// nothing to drop the entry.
using Rewriter = std::function<std::optional<Rewritten>(const std::string& path,
                                                        const std::filesystem::path& content,
                                                        const std::filesystem::path& scratch)>;

// The same for an entry in memory: `content` is the whole entry, or, for
// one of `size` bytes over the held limit (read as it streams), its first
// bytes only, and then the replacement must end with the entry's other
// `size - content.size()` bytes unchanged (pixel data after a header): the
// rewriter writes the replacement up to there into `out`, and the rest is
// copied on as it arrives. Returns the manifest entry, or nothing to drop
// the entry; or sets `spool` to have the entry given to the Rewriter on a
// temporary file instead (what it cannot do in memory the same way).
using MemoryRewriter =
    std::function<std::optional<ManifestFile>(const std::string& path, const std::string& content,
                                              std::uint64_t size, std::string& out, bool& spool)>;

// Entries up to this size are held whole for a MemoryRewriter; of larger
// ones it gets this many first bytes. (Held three times at once: the
// entry, the parsed copy, the result.)
inline constexpr std::uint64_t kRewriteInMemory = 4ull << 20;

// Rewrites a plain package read from `plain` entry by entry into a new plain
// package on `out`, signed by `self`. The input must verify like any plain
// package (signed by `self` or a site in `trust`, every hash as signed);
// if it does not, the output ends without a manifest, so nothing downstream
// accepts it. `summary` makes the new study summary from the input's
// manifest. Entries go to `in_memory` (when given) as it says, held whole up
// to `held` bytes; what it leaves is spooled under $TMPDIR one entry at a
// time for `rewrite`.
Manifest rewrite_plain(Source& plain, const std::string& name, const SiteIdentity& self,
                       const TrustStore& trust, const Rewriter& rewrite,
                       const MemoryRewriter& in_memory,
                       const std::function<StudySummary(const Manifest&)>& summary, Sink& out,
                       const WriteOptions& options = {}, std::uint64_t held = kRewriteInMemory);

// ---- Reading ------------------------------------------------------------

struct OpenOptions {
  const SiteIdentity* self = nullptr;  // needed to decrypt
  const TrustStore* trust = nullptr;   // known senders
  // The detached signature over the sealed bytes, when there is one.
  std::optional<minisign::Signature> signature;
  // The most bytes opening may write (the files unpacked into a folder, or
  // the plain package spooled for a stream); 0: no bound. Past it:
  // Error(Exit::corrupt), nothing left behind.
  std::uint64_t max_unpacked = 0;
};

// Opens a sealed package into a new folder `dest` (which must not exist):
// decrypts, checks every signature, hash and count, and only then renames
// the completed folder into place. Nothing is left behind on failure.
Manifest open_to_folder(Source& sealed, const std::string& name, const OpenOptions& options,
                        const std::filesystem::path& dest);

// Opens a sealed package and, only after every check passed, writes the
// plain package to `out` (spooled in a temporary file meanwhile).
Manifest open_to_stream(Source& sealed, const std::string& name, const OpenOptions& options,
                        Sink& out);

// Receives the file entries of a package as they stream by, before the
// package is known to be genuine: keep the bytes aside, parse nothing.
class EntryHandler {
 public:
  virtual ~EntryHandler() = default;
  virtual void begin(const std::string& path, std::uint64_t size) = 0;
  virtual void data(ByteSpan d) = 0;
  virtual void end() = 0;
  // Called after every check passed, with the manifest and its signature.
  virtual void manifest(const std::string& /*json*/, const std::string& /*sig*/) {}
};

// Reads one plain package (tar or tar.zst) to its end, handing every file
// entry to `entries`, and checks it whole as verify() does: the manifest
// signed by a site in `trust`, every file's size and BLAKE2b-256 as signed,
// nothing missing, nothing extra. Returns the manifest only when all of it
// passed; throws Error (corrupt, bad_signature, not_package) naming `name`.
Manifest read_plain(Source& plain, const std::string& name, const TrustStore& trust,
                    EntryHandler& entries);

// Plain packages one after another in one stream, as `iep-fetch --stdout`
// writes them: next() gives the next package's bytes as a Source that ends
// where that package ends (a tar's end-of-archive marker and its zero
// padding; for tar.zst, the zstd frame holding it; the tar given out
// decompressed), or null at the end of the stream. The Source stays valid
// until the next call; a package not read to its end (it did not verify)
// is skipped by the next call. Bounded: pax headers of at most 1 MiB; a
// truncated or undecodable stream is Error(Exit::corrupt) naming `name`.
class PackageStream {
 public:
  PackageStream(Source& in, std::string name);
  ~PackageStream();
  PackageStream(const PackageStream&) = delete;
  PackageStream& operator=(const PackageStream&) = delete;
  Source* next();
  // The package given out last was read to its end: the next one can be
  // found (false after a package whose tar or zstd structure failed).
  [[nodiscard]] bool at_boundary() const;
  // Packages begun so far.
  [[nodiscard]] std::size_t count() const;

  struct State;  // public only for the implementation's helpers

 private:
  std::unique_ptr<State> s_;
};

// ---- Verifying ----------------------------------------------------------

struct Check {
  std::string name;  // "signature", "decrypt", "manifest-signature", ...
  bool ok = false;
  std::string detail;
};

struct Report {
  std::string input;
  bool sealed = false;
  std::optional<Manifest> manifest;
  std::string signed_by;  // site whose signature over the sealed bytes verified
  std::vector<Check> checks;
  Exit result = Exit::ok;
  std::string error;  // the first failure, as a tool would print it
  [[nodiscard]] std::string to_json() const;
};

struct VerifyOptions {
  OpenOptions open;
  bool check_dicom = true;
  // The identity was not asked for (a configured default): a sealed package
  // it does not open is checked for origin only instead of failing.
  bool identity_optional = false;
};

// Checks what can be checked with what is given: a sealed package's origin
// signature against known cards; with this site's identity, decryption and
// everything inside; a plain package's manifest signature, hashes and DICOM.
// Never throws for a bad package: the verdict is in the report.
//
// Nothing is parsed before it is authenticated: a first pass checks the
// signatures, the manifest and every hash; only then, with check_dicom, a
// second pass parses the entries the verified manifest lists as DICOM, each
// once its bytes hash as signed. The input is read once and copied meanwhile
// into an unnamed temporary file in $TMPDIR (O_TMPFILE: gone on any exit),
// which the second pass reads.
Report verify(Source& input, const std::string& name, const VerifyOptions& options);
// As verify(), for a file (or "-", stdin): a regular file is read twice
// instead of copied.
Report verify_file(const std::string& path, const std::string& name, const VerifyOptions& options);

#ifdef IEP_FUZZING
// Only in a fuzzing build (tests/fuzz/CMakeLists.txt defines IEP_FUZZING):
// when set, a signature that verifies with no card of its key id is taken
// as made by the last of them, so that mutated manifests reach the checks
// after it.
namespace fuzzing {
extern bool skip_signatures;
}
#endif

// The detached signature file for a sealed package file: FILE.minisig.
std::filesystem::path signature_path(const std::filesystem::path& sealed_file);
// True when `p` is a regular file that begins as a sealed package does (the
// age header line); nothing more of it is read.
bool looks_sealed(const std::filesystem::path& p);

}  // namespace iep::package
