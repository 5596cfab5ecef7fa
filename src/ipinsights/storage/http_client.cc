#include "ipinsights/storage/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <mutex>

namespace ipinsights {
namespace {

constexpr size_t kMaxCollectedBody = 1 << 20;

// Connections, DNS answers and TLS sessions are shared by every thread's handle, so a
// short-lived thread (a prefetch) still finds a warm keep-alive connection. Never freed:
// thread-local handles may be cleaned up after static destructors ran.
class SharedCache {
 public:
  SharedCache() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  CURLSH* get() { return share_; }

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<SharedCache*>(user)->mutexes_[data].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<SharedCache*>(user)->mutexes_[data].unlock();
  }
  CURLSH* share_;
  std::mutex mutexes_[CURL_LOCK_DATA_LAST];
};

SharedCache& Shared() {
  static SharedCache* cache = new SharedCache();
  return *cache;
}

void GlobalInit() { Shared(); }

// One handle per thread (a handle is not thread-safe); connections live in the shared cache.
class ThreadHandle {
 public:
  ThreadHandle() {
    GlobalInit();
    handle_ = curl_easy_init();
    if (handle_ == nullptr) throw HttpTransportError("HTTP: curl_easy_init failed");
  }
  ~ThreadHandle() { curl_easy_cleanup(handle_); }
  CURL* get() { return handle_; }

 private:
  CURL* handle_;
};

struct TransferState {
  CURL* handle = nullptr;
  const HttpRequest* request = nullptr;
  const HttpBodySink* sink = nullptr;
  HttpClientResponse* response = nullptr;
  std::string_view upload;
  bool headers_announced = false;
  std::exception_ptr error;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    state->response->headers.clear();  // a new response (after 100 Continue)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  state->response->headers.emplace_back(std::move(name), std::string(value));
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(state->handle, CURLINFO_RESPONSE_CODE, &status);
  state->response->body_bytes += n;
  if (status >= 200 && status < 300 && state->sink != nullptr && *state->sink) {
    try {
      if (!state->headers_announced && state->request->on_headers) {
        state->headers_announced = true;
        state->request->on_headers(status, state->response->headers);
      }
      (*state->sink)(std::string_view(data, n));
    } catch (...) {
      state->error = std::current_exception();
      return 0;  // aborts the transfer
    }
    return n;
  }
  if (state->response->body.size() < kMaxCollectedBody) state->response->body.append(data, n);
  return n;
}

size_t OnUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t n = std::min(size * count, state->upload.size());
  std::memcpy(buffer, state->upload.data(), n);
  state->upload.remove_prefix(n);
  return n;
}

}  // namespace

std::string HttpClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

HttpClientResponse HttpPerform(const HttpRequest& request, const HttpBodySink& sink) {
  thread_local ThreadHandle thread_handle;
  CURL* curl = thread_handle.get();
  curl_easy_reset(curl);

  HttpClientResponse response;
  TransferState state;
  state.handle = curl;
  state.request = &request;
  state.sink = &sink;
  state.response = &response;

  curl_easy_setopt(curl, CURLOPT_SHARE, Shared().get());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  // S3 keys may hold "/../" and "/./", and S3 does not resolve them: send the path as
  // written (and as SigV4 signed it), not the one RFC 3986 dot-segment removal makes.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  // Only http and https, whatever a URL from the environment or a server says.
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS,
                   static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  if (request.timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, request.stall_seconds);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (request.bypass_proxy) curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  // Bodies are compared byte for byte with Content-Length; no transparent decoding.
  curl_easy_setopt(curl, CURLOPT_HTTP_CONTENT_DECODING, 0L);

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  // No "Expect: 100-continue" round trip before bodies (S3 and moto answer directly).
  headers = curl_slist_append(headers, "Expect:");
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    state.upload = request.body;
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &state);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    bool has_type = false;
    for (const auto& header : request.headers) {
      if (strcasecmp(header.first.c_str(), "content-type") == 0) has_type = true;
    }
    if (!has_type) headers = curl_slist_append(headers, "Content-Type:");
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  if (state.error) std::rethrow_exception(state.error);
  if (code != CURLE_OK) {
    throw HttpTransportError(request.method + " " + request.url + ": " + curl_easy_strerror(code),
                             code == CURLE_COULDNT_CONNECT);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace ipinsights
