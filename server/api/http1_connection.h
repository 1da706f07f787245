#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "server/api/json_gateway.h"

namespace lockstep::api {

// One parsed request head; exposed for tests.
struct HttpRequestHead {
  std::string method;
  std::string path;  // without the query string
  size_t content_length = 0;
  bool keep_alive = true;
  bool chunked = false;
};

// Parses "METHOD /path HTTP/1.x\r\nHeader: value\r\n...\r\n" (the blank line excluded).
Result<HttpRequestHead> parse_http_request_head(std::string_view head);

std::string_view http_reason_phrase(int status);

// "HTTP/1.1 <status> ..." with Content-Type and Content-Length (and "Connection: close" when
// the connection ends after it).
std::string render_http_response(const HttpResponse& response, bool keep_alive);
HttpResponse plain_http_response(int status, std::string body);

// One request taken off a connection, to be answered with Http1Connection::respond(sequence).
struct Http1Request {
  uint64_t sequence = 0;
  std::string method;
  std::string path;
  std::string body;
};

// The server side of one HTTP/1.1 connection as a state machine without I/O (sans-IO, as
// core/raft is): the caller feeds it the bytes it receives, takes complete requests off it,
// hands their answers back and sends what it says to send. The same machine runs on a blocking
// socket (HttpServer's plain listeners) and inside TlsRelay's event loops (HTTPS), so both
// parse, limit and answer alike.
//
// - One request at a time: the next is taken only once the previous one is answered, so
//   pipelined requests (RFC 9112 §9.3.2) are answered in order. Their bytes wait here, at
//   most kMaxReadAheadBytes of them (wants_input() turns false: the caller stops reading,
//   and TCP's window holds the client back).
// - Backpressure on answers: no request is taken while kMaxUnsentBytes or more of earlier
//   answers wait to be sent, so a client that sends and never reads costs bounded memory.
// - Keep-alive unless the request says otherwise (HTTP/1.0 without keep-alive, Connection:
//   close), then finished() once the answer is sent.
// - Half-close: after the client's EOF (received_end) the requests already received are
//   still answered; then finished().
// - Content-Length bodies only: chunked bodies get 411, heads over kMaxHeaderBytes 431,
//   bodies over kMaxBodyBytes 413, malformed heads 400, each closing the connection.
class Http1Connection {
 public:
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;
  // etcd's --max-request-bytes default (1.5 MiB) plus room for the JSON/base64 expansion.
  static constexpr size_t kMaxBodyBytes = 4 * 1024 * 1024;
  static constexpr size_t kMaxReadAheadBytes = 64 * 1024;
  static constexpr size_t kMaxUnsentBytes = 64 * 1024;

  // Whether the caller should read more from the client now.
  bool wants_input() const;
  void received(std::string_view bytes);
  // The client's EOF or close_notify.
  void received_end();

  // The next complete request, unless one is being answered, answers wait to be sent, or the
  // connection is closing. A malformed request instead queues its error answer.
  std::optional<Http1Request> next_request();
  bool awaiting_answer() const { return awaiting_answer_; }
  bool awaiting(uint64_t sequence) const {
    return awaiting_answer_ && awaited_sequence_ == sequence;
  }
  // The answer to request `sequence`; ignored unless that request is the one awaiting it (an
  // answer that comes after time_out() or abandon()).
  void respond(uint64_t sequence, const HttpResponse& response);
  // The answer did not come in time: 504, and the late answer will be ignored.
  void time_out(uint64_t sequence);
  // The server is stopping: no further requests, the awaited answer is not waited for; what
  // is already queued is still sent.
  void abandon();

  std::string_view unsent() const { return std::string_view(output_).substr(sent_); }
  void sent(size_t bytes);
  // Nothing more will be sent: the caller closes the connection.
  bool finished() const { return closing_ && unsent().empty(); }

 private:
  // Parses the head of the request at the front of the input once it is complete (once per
  // request), or queues the error answer for a head or body over the limits.
  void examine();
  void fail(int status, std::string body);
  // Whether the request at the front of the input is complete, head and body.
  bool has_complete_request() const;

  std::string input_;
  std::optional<HttpRequestHead> head_;  // of the request at the front, once examined
  size_t body_start_ = 0;                // where head_'s body begins in input_
  size_t scanned_ = 0;                   // input_ before this holds no "\r\n\r\n"
  std::string output_;
  size_t sent_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t awaited_sequence_ = 0;
  bool awaiting_answer_ = false;
  bool awaited_keep_alive_ = true;
  bool client_done_ = false;
  bool closing_ = false;
};

}  // namespace lockstep::api
