#include "server/api/http1_connection.h"

#include <algorithm>
#include <cctype>

namespace lockstep::api {
namespace {

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

constexpr std::string_view kHeadEnd = "\r\n\r\n";

}  // namespace

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

Result<HttpRequestHead> parse_http_request_head(std::string_view head) {
  const size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  const size_t first_space = request_line.find(' ');
  const size_t second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
    return Error(ErrorCode::kInvalidInput, "malformed HTTP request line");
  }
  HttpRequestHead parsed;
  parsed.method = std::string(request_line.substr(0, first_space));
  std::string_view target = request_line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));
  parsed.path = std::string(target);
  const std::string_view version = request_line.substr(second_space + 1);
  if (!version.starts_with("HTTP/1.")) {
    return Error(ErrorCode::kInvalidInput, "unsupported HTTP version");
  }
  parsed.keep_alive = version == "HTTP/1.1";  // HTTP/1.0 closes unless asked otherwise
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    const size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Error(ErrorCode::kInvalidInput, "malformed HTTP header line");
    }
    const std::string name = lowercase(trim(line.substr(0, colon)));
    const std::string value = lowercase(trim(line.substr(colon + 1)));
    if (name == "content-length") {
      if (value.empty() || !std::all_of(value.begin(), value.end(), ::isdigit) ||
          value.size() > 12) {
        return Error(ErrorCode::kInvalidInput, "malformed Content-Length");
      }
      parsed.content_length = std::stoull(value);
    } else if (name == "connection") {
      if (value == "close") parsed.keep_alive = false;
      if (value == "keep-alive") parsed.keep_alive = true;
    } else if (name == "transfer-encoding") {
      parsed.chunked = value != "identity";
    }
  }
  return parsed;
}

std::string render_http_response(const HttpResponse& response, bool keep_alive) {
  std::string text = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     std::string(http_reason_phrase(response.status)) + "\r\n";
  text += "Content-Type: " + response.content_type + "\r\n";
  text += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (!keep_alive) text += "Connection: close\r\n";
  text += "\r\n";
  text += response.body;
  return text;
}

HttpResponse plain_http_response(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  return response;
}

bool Http1Connection::wants_input() const {
  if (closing_ || client_done_) return false;
  // Answers pending or a request ready to be taken: only a bounded read-ahead. Otherwise the
  // request at the front is still incomplete, and examine() bounds its head and body.
  if (awaiting_answer_ || unsent().size() >= kMaxUnsentBytes || has_complete_request()) {
    return input_.size() < kMaxReadAheadBytes;
  }
  return true;
}

void Http1Connection::received(std::string_view bytes) {
  if (closing_) return;
  input_.append(bytes);
  if (!awaiting_answer_) examine();
}

void Http1Connection::received_end() {
  client_done_ = true;
  if (!awaiting_answer_) examine();
  // Nothing complete left to answer: done once the answers already queued are sent.
  if (!awaiting_answer_ && !has_complete_request()) closing_ = true;
}

void Http1Connection::examine() {
  if (closing_ || head_.has_value()) return;
  // RFC 9112 §2.2: a server should ignore empty lines received before a request line.
  size_t leading = 0;
  while (input_.compare(leading, 2, "\r\n") == 0) leading += 2;
  if (leading > 0) {
    input_.erase(0, leading);
    scanned_ = 0;
  }
  const size_t end = input_.find(kHeadEnd, scanned_);
  if (end == std::string::npos) {
    if (input_.size() > kMaxHeaderBytes) return fail(431, "request head too large\n");
    // The next search starts where a "\r\n\r\n" split across reads could begin.
    scanned_ = input_.size() >= kHeadEnd.size() ? input_.size() - (kHeadEnd.size() - 1) : 0;
    return;
  }
  if (end > kMaxHeaderBytes) return fail(431, "request head too large\n");
  Result<HttpRequestHead> head = parse_http_request_head(std::string_view(input_).substr(0, end));
  if (!head.is_ok()) return fail(400, head.error().to_string() + "\n");
  if (head->chunked) return fail(411, "chunked bodies are not supported\n");
  if (head->content_length > kMaxBodyBytes) return fail(413, "request body too large\n");
  head_ = std::move(head).value();
  body_start_ = end + kHeadEnd.size();
  scanned_ = 0;
}

bool Http1Connection::has_complete_request() const {
  return head_.has_value() && input_.size() >= body_start_ + head_->content_length;
}

std::optional<Http1Request> Http1Connection::next_request() {
  if (awaiting_answer_ || closing_ || unsent().size() >= kMaxUnsentBytes) return std::nullopt;
  examine();
  if (!has_complete_request()) {
    if (client_done_) closing_ = true;  // a partial request at EOF is dropped
    return std::nullopt;
  }
  Http1Request request;
  request.sequence = next_sequence_++;
  request.method = std::move(head_->method);
  request.path = std::move(head_->path);
  request.body = input_.substr(body_start_, head_->content_length);
  input_.erase(0, body_start_ + head_->content_length);
  if (input_.empty() && input_.capacity() > kMaxReadAheadBytes) std::string().swap(input_);
  awaiting_answer_ = true;
  awaited_sequence_ = request.sequence;
  awaited_keep_alive_ = head_->keep_alive;
  head_.reset();
  return request;
}

void Http1Connection::respond(uint64_t sequence, const HttpResponse& response) {
  if (!awaiting_answer_ || sequence != awaited_sequence_) return;
  output_ += render_http_response(response, awaited_keep_alive_);
  awaiting_answer_ = false;
  if (!awaited_keep_alive_) {
    closing_ = true;
    return;
  }
  examine();  // what was read ahead meanwhile
  if (client_done_ && !has_complete_request()) closing_ = true;
}

void Http1Connection::time_out(uint64_t sequence) {
  respond(sequence, plain_http_response(504, "the member did not answer in time\n"));
}

void Http1Connection::abandon() {
  awaiting_answer_ = false;
  closing_ = true;
  input_.clear();
  head_.reset();
}

void Http1Connection::sent(size_t bytes) {
  sent_ += bytes;
  if (sent_ >= output_.size()) {
    // An idle keep-alive connection keeps no large buffer from an earlier answer (thousands
    // of idle connections are the case this server is built for).
    if (output_.capacity() > kMaxUnsentBytes) {
      std::string().swap(output_);
    } else {
      output_.clear();
    }
    sent_ = 0;
  } else if (sent_ >= kMaxUnsentBytes && sent_ >= output_.size() / 2) {
    // Answers appended behind a partly sent one: drop the sent part (amortised, so a large
    // answer sent in small pieces is not moved again for each piece).
    output_.erase(0, sent_);
    sent_ = 0;
  }
}

void Http1Connection::fail(int status, std::string body) {
  output_ += render_http_response(plain_http_response(status, std::move(body)), false);
  closing_ = true;
  input_.clear();
  head_.reset();
}

}  // namespace lockstep::api
