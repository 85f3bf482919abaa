#include "tool_main.h"

#include <csignal>
#include <cstdio>
#include <exception>

#include "iep/error.h"

namespace iep::tool {

int run(const char* name, const std::function<int()>& body) {
  // A closed stdout must give a write error we can report, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", name, e.what());
    return static_cast<int>(Exit::internal);
  }
}

}  // namespace iep::tool
