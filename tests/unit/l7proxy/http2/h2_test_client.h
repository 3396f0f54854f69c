// An HTTP/2 client for the tests: nghttp2's own client session, which sends what a real
// client sends and checks what the server sends as a real client would.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::l7::test {

// nghttp2's client session, in memory: requests written into output(), what the server sent
// read by input(), each stream's response and end written down.
class H2Client {
 public:
  struct Response {
    int status = 0;
    std::string body;
    bool closed = false;
    uint32_t error = 0;
  };

  H2Client() {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_client_new(&session_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~H2Client() { nghttp2_session_del(session_); }

  // A request; with `body`, that body; with `hold_body`, a body that never comes (the
  // stream stays open on the client's side).
  int32_t request(const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& extra = {},
                  const std::string* body = nullptr, bool hold_body = false) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", method}, {":scheme", scheme}, {":authority", "example.test"}, {":path", path}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    std::vector<nghttp2_nv> nva;
    nva.reserve(fields.size());
    for (auto& [n, v] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                     n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.read_callback = read_upload;
    const int32_t id =
        nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                               body != nullptr || hold_body ? &provider : nullptr, this);
    if (body != nullptr) {
      uploads_[id] = {*body, 0};
    }
    return id;
  }

  std::string output() {
    std::string out;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) {
        return out;
      }
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
  }
  void input(std::string_view bytes) {
    nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size());
  }
  void ping() { nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr); }
  void setting(nghttp2_settings_id id, uint32_t value) {
    const nghttp2_settings_entry entry{.settings_id = id, .value = value};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, &entry, 1);
  }
  void cancel(int32_t stream) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL);
  }
  uint32_t remote_setting(nghttp2_settings_id id) {
    return nghttp2_session_get_remote_settings(session_, id);
  }

  std::string scheme = "http";  // of the requests made from now on
  std::map<int32_t, Response> responses;
  int64_t goaway = -1;

 private:
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* self) {
    if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
      static_cast<H2Client*>(self)->responses[frame->hd.stream_id].status =
          std::stoi(std::string(reinterpret_cast<const char*>(value), valuelen));
    }
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t len,
                     void* self) {
    static_cast<H2Client*>(self)->responses[stream].body.append(reinterpret_cast<const char*>(data),
                                                                len);
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t stream, uint32_t error, void* self) {
    auto& r = static_cast<H2Client*>(self)->responses[stream];
    r.closed = true;
    r.error = error;
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* self) {
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      static_cast<H2Client*>(self)->goaway = frame->goaway.error_code;
    }
    return 0;
  }
  static ssize_t read_upload(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length,
                             uint32_t* flags, nghttp2_data_source*, void* self) {
    auto& uploads = static_cast<H2Client*>(self)->uploads_;
    if (uploads.find(stream) == uploads.end()) {
      return NGHTTP2_ERR_DEFERRED;  // held: it never comes
    }
    auto& [body, sent] = uploads[stream];
    const size_t n = std::min(length, body.size() - sent);
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): a body's bytes, not a string
    std::memcpy(buf, body.data() + sent, n);
    sent += n;
    if (sent == body.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
  }

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::pair<std::string, size_t>> uploads_;  // a body, and what went
};

}  // namespace vigil::l7::test
