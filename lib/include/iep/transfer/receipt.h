// Delivery receipts: proof, signed by the receiving site, that it received
// and opened a package. The hub stores them and shows them to the sender,
// who checks one with minisign and the receiver's card alone:
//
//   minisign -Vm receipt.txt -x receipt.txt.minisig -p receiver.card
//
// Format (iep-protocol(7)): the statement is one line and a newline,
//   iep-receipt package=ID blake2b=HEX receiver=SITE sender=SITE time=RFC3339
// (HEX: BLAKE2b-256 of the sealed bytes); the signature is a prehashed
// minisign signature of the statement's exact bytes by the receiver, with
// the trusted comment "iep-receipt package=ID receiver=SITE".
#pragma once

#include <string>
#include <string_view>

#include "iep/package/minisign.h"
#include "iep/package/site.h"

namespace iep::transfer {

struct Receipt {
  std::string package_id;      // 32 lower-case hex digits
  std::string sealed_blake2b;  // BLAKE2b-512 of the sealed bytes, 128 lower-case hex digits
  std::string receiver;        // site name
  std::string sender;          // site name
  std::string time;            // RFC 3339 UTC

  [[nodiscard]] std::string statement() const;  // the exact signed line, with its newline
  // Throws Error(Exit::bad_signature) when `text` is not a well-formed statement.
  static Receipt parse(std::string_view text);
};

struct SignedReceipt {
  Receipt receipt;
  minisign::Signature signature;
};

// Signs a receipt as `self` (which must be the receipt's receiver).
SignedReceipt sign_receipt(const Receipt& r, const SiteIdentity& self);

// Checks a receipt's statement text and signature against the receiver's
// card; returns the parsed receipt. Throws Error(Exit::bad_signature) naming
// what does not hold (signature, key, receiver name).
Receipt verify_receipt(std::string_view statement, std::string_view signature_text,
                       const SiteCard& receiver);

// An RFC 3339 UTC time as iep writes them: YYYY-MM-DDTHH:MM:SS[.fraction]Z
// (upper-case T and Z, a real calendar date, at most 9 fraction digits).
bool valid_utc_time(std::string_view text);

}  // namespace iep::transfer
