// libcurl, loaded when the first S3 remote is opened. Commands that never
// touch a remote (status, path, the hook, ...) do not pay for loading
// libcurl and its ~30 dependencies at start-up: `dsm path NAME` against
// `git rev-parse HEAD` is a floor of issue 17.
//
// The library is opened by its SONAME (libcurl.so.4, the ABI curl has kept
// since 2006), never the unversioned development symlink, so the installed
// runtime package (Debian: libcurl4) is enough; the .deb depends on it
// (cmake/dsmPackaging.cmake). The types and constants still come from
// <curl/curl.h> at build time.
#pragma once

#include <curl/curl.h>

namespace dsm::remote {

// The libcurl functions dsm calls, resolved from the loaded library.
struct CurlLib {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* handle);
  void (*easy_reset)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  CURLcode (*easy_perform)(CURL* handle);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl and calls curl_global_init once per process (thread-safe);
// later calls return the same table. Throws dsm::Error "cannot load libcurl
// ('libcurl.so.4'), which S3 remotes need: ... (install libcurl4)" when
// the library or one of the functions is missing. The test knob
// DSM_TEST_LIBCURL names another file to load instead.
const CurlLib& curl_lib();

} // namespace dsm::remote
