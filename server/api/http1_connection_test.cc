// Http1Connection without sockets: bytes in, requests out, answers in, bytes out.
#include "server/api/http1_connection.h"

#include <gtest/gtest.h>

#include <string>

namespace lockstep::api {
namespace {

HttpResponse answer(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

// Everything the connection wants sent, marked sent.
std::string drain(Http1Connection& http) {
  std::string out(http.unsent());
  http.sent(out.size());
  return out;
}

TEST(Http1ConnectionTest, PipelinedRequestsAreTakenOneAtATimeAndAnsweredInOrder) {
  Http1Connection http;
  http.received(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "GET /c HTTP/1.1\r\n\r\n");
  std::optional<Http1Request> first = http.next_request();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->path, "/a");
  EXPECT_FALSE(http.next_request().has_value()) << "the second waits for the first's answer";
  http.respond(first->sequence, answer("A"));
  std::optional<Http1Request> second = http.next_request();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->method, "POST");
  EXPECT_EQ(second->body, "hello");
  http.respond(second->sequence, answer("B"));
  std::optional<Http1Request> third = http.next_request();
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->path, "/c");
  http.respond(third->sequence, answer("C"));
  const std::string out = drain(http);
  const size_t a = out.find("\r\n\r\nA");
  const size_t b = out.find("\r\n\r\nB");
  const size_t c = out.find("\r\n\r\nC");
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(out.find("Connection: close"), std::string::npos);
  EXPECT_FALSE(http.finished()) << "keep-alive";
  EXPECT_TRUE(http.wants_input());
}

TEST(Http1ConnectionTest, RequestsSplitAcrossReadsAreReassembled) {
  Http1Connection http;
  const std::string request =
      "\r\nPOST /v3/kv/put HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
  for (char byte : request) {
    EXPECT_FALSE(http.next_request().has_value());
    http.received(std::string_view(&byte, 1));
  }
  std::optional<Http1Request> request_taken = http.next_request();
  ASSERT_TRUE(request_taken.has_value()) << "the empty line before it is ignored (RFC 9112 §2.2)";
  EXPECT_EQ(request_taken->path, "/v3/kv/put");
  EXPECT_EQ(request_taken->body, "0123456789");
}

TEST(Http1ConnectionTest, ConnectionCloseAndHttp10EndTheConnectionAfterTheAnswer) {
  for (const std::string head :
       {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"}) {
    Http1Connection http;
    http.received(head + "GET /never HTTP/1.1\r\n\r\n");
    std::optional<Http1Request> request = http.next_request();
    ASSERT_TRUE(request.has_value());
    http.respond(request->sequence, answer("bye"));
    EXPECT_NE(drain(http).find("Connection: close"), std::string::npos) << head;
    EXPECT_TRUE(http.finished()) << head;
    EXPECT_FALSE(http.next_request().has_value()) << head;
  }
}

TEST(Http1ConnectionTest, HalfCloseAnswersWhatCameBeforeIt) {
  Http1Connection http;
  http.received("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /partial HT");
  http.received_end();
  EXPECT_FALSE(http.wants_input());
  for (const std::string path : {"/1", "/2"}) {
    std::optional<Http1Request> request = http.next_request();
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->path, path);
    EXPECT_FALSE(http.finished());
    http.respond(request->sequence, answer(path));
  }
  EXPECT_FALSE(http.next_request().has_value()) << "the partial request is dropped";
  EXPECT_FALSE(http.finished()) << "until its answers are sent";
  EXPECT_NE(drain(http).find("/2"), std::string::npos);
  EXPECT_TRUE(http.finished());
}

TEST(Http1ConnectionTest, MalformedOrOversizedRequestsGetTheirStatusAndClose) {
  struct Case {
    std::string bytes;
    std::string status;
  };
  const std::vector<Case> cases = {
      {"NONSENSE\r\n\r\n", "400"},
      {"GET / HTTP/2.0\r\n\r\n", "400"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "411"},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", "413"},
      {"GET / HTTP/1.1\r\nX: " + std::string(Http1Connection::kMaxHeaderBytes, 'x'), "431"},
  };
  for (const Case& bad : cases) {
    Http1Connection http;
    http.received(bad.bytes);
    EXPECT_FALSE(http.next_request().has_value());
    const std::string out = drain(http);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 " + bad.status)) << bad.status << ": " << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(http.finished());
  }
}

// A request answered only after its deadline: 504 at the deadline, the late answer ignored,
// and the connection goes on with the next request.
TEST(Http1ConnectionTest, LateAnswerAfterTimeoutIsIgnored) {
  Http1Connection http;
  http.received("GET /slow HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
  std::optional<Http1Request> slow = http.next_request();
  ASSERT_TRUE(slow.has_value());
  EXPECT_TRUE(http.awaiting(slow->sequence));
  http.time_out(slow->sequence);
  EXPECT_FALSE(http.awaiting(slow->sequence));
  http.respond(slow->sequence, answer("late"));
  std::optional<Http1Request> next = http.next_request();
  ASSERT_TRUE(next.has_value());
  http.respond(next->sequence, answer("next"));
  const std::string out = drain(http);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 504"));
  EXPECT_EQ(out.find("late"), std::string::npos);
  EXPECT_NE(out.find("next"), std::string::npos);
}

// A client that sends and never reads: no request is taken while kMaxUnsentBytes of answers
// wait, and reading stops once kMaxReadAheadBytes of further requests are buffered.
TEST(Http1ConnectionTest, UnsentAnswersAndReadAheadAreBounded) {
  Http1Connection http;
  const std::string request = "GET /big HTTP/1.1\r\n\r\n";
  const std::string big(Http1Connection::kMaxUnsentBytes, 'x');
  http.received(request);
  std::optional<Http1Request> first = http.next_request();
  ASSERT_TRUE(first.has_value());
  http.respond(first->sequence, answer(big));
  size_t fed = 0;
  while (http.wants_input()) {
    http.received(request);
    ++fed;
    ASSERT_LT(fed, 100'000u) << "reading never stopped";
  }
  EXPECT_FALSE(http.next_request().has_value()) << "answers wait to be sent";
  EXPECT_LE(fed * request.size(), Http1Connection::kMaxReadAheadBytes + request.size());
  http.sent(http.unsent().size());  // the client read them
  EXPECT_TRUE(http.next_request().has_value());
}

TEST(Http1ConnectionTest, AbandonDropsTheAwaitedAnswerAndFinishes) {
  Http1Connection http;
  http.received("GET /a HTTP/1.1\r\n\r\n");
  std::optional<Http1Request> request = http.next_request();
  ASSERT_TRUE(request.has_value());
  http.abandon();
  http.respond(request->sequence, answer("too late"));
  EXPECT_TRUE(http.unsent().empty());
  EXPECT_TRUE(http.finished());
}

}  // namespace
}  // namespace lockstep::api
