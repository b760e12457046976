#include "remote/curl_lib.hpp"

#include "dsm/error.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <string>

namespace dsm::remote {

namespace {

constexpr const char* k_soname = "libcurl.so.4";

CurlLib load() {
  const char* knob = std::getenv("DSM_TEST_LIBCURL");
  const std::string file = knob != nullptr && *knob != '\0' ? knob : k_soname;
  // RTLD_LOCAL: libcurl's symbols stay out of the global namespace; it is
  // never unloaded (connections and TLS state live until exit).
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    throw Error("cannot load libcurl ('" + file + "'), which S3 remotes need: " +
                (why ? why : "unknown error") + " (install the libcurl runtime, e.g. Debian's libcurl4)");
  }
  CurlLib lib{};
  auto resolve = [&](auto& fn, const char* name) {
    void* sym = ::dlsym(handle, name);
    if (sym == nullptr) {
      throw Error("cannot load libcurl ('" + file + "'): it has no " + name +
                  " (dsm needs libcurl 7.75 or newer)");
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
  };
  resolve(lib.global_init, "curl_global_init");
  resolve(lib.easy_init, "curl_easy_init");
  resolve(lib.easy_cleanup, "curl_easy_cleanup");
  resolve(lib.easy_reset, "curl_easy_reset");
  resolve(lib.easy_setopt, "curl_easy_setopt");
  resolve(lib.easy_getinfo, "curl_easy_getinfo");
  resolve(lib.easy_perform, "curl_easy_perform");
  resolve(lib.easy_strerror, "curl_easy_strerror");
  resolve(lib.slist_append, "curl_slist_append");
  resolve(lib.slist_free_all, "curl_slist_free_all");
  if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw Error("cannot initialise libcurl ('" + file + "')");
  }
  return lib;
}

} // namespace

const CurlLib& curl_lib() {
  // A failed load is retried on the next call (the message is the same);
  // a successful one is kept for the life of the process.
  static std::mutex mutex;
  static CurlLib lib{};
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) {
    lib = load();
    loaded = true;
  }
  return lib;
}

} // namespace dsm::remote
