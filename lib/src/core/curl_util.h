// libcurl handles as RAII types, for the library's two HTTP clients (the
// transfer client and the hub's S3 store).
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "iep/core/error.h"

namespace iep::curl {

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

// A request's header list.
class Headers {
 public:
  void add(const std::string& line) {
    curl_slist* l = curl_slist_append(list_.get(), line.c_str());
    if (l == nullptr) throw Error(Exit::internal, "libcurl: out of memory");
    (void)list_.release();
    list_.reset(l);
  }
  [[nodiscard]] curl_slist* get() const { return list_.get(); }

 private:
  struct Deleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  std::unique_ptr<curl_slist, Deleter> list_;
};

}  // namespace iep::curl
