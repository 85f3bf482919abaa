// The one place an iep command prints an error and picks its exit code.
#pragma once

#include <functional>
#include <string>

namespace iep::tool {

// Runs body(); an iep::Error is printed as "NAME: message" on stderr and its
// exit code returned; CLI11 errors exit with the usage code.
int run(const char* name, const std::function<int()>& body);

}  // namespace iep::tool
