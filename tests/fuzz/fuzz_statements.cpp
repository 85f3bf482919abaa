// Fuzzes the two one-line signed statements a hub and its clients read from
// outside: a delivery receipt (iep/transfer/receipt.h) and the sealed
// package's statement (SealedStatement, iep/package/package.h). The first
// byte picks the parser; the rest is the text. Whatever parses must encode
// back to what was read (a receipt, exactly; a sealed statement, to the same
// fields).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iep/core/error.h"
#include "iep/package/package.h"
#include "iep/transfer/receipt.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] == 'r') {
      auto r = iep::transfer::Receipt::parse(in);
      if (r.statement() != in) __builtin_trap();
    } else {
      auto st = iep::package::SealedStatement::parse(in);
      auto again = iep::package::SealedStatement::parse(st.encode());
      if (again.package_id != st.package_id || again.sender != st.sender ||
          again.created != st.created || again.to != st.to)
        __builtin_trap();
    }
  } catch (const iep::Error&) {
  }
  return 0;
}
