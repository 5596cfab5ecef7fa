// ClassifyReadError: one test per error code it handles (and per state that changes the
// answer for that code).
#include "ipinsights/serve/read_error.h"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace ipinsights {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using Answer = ReadErrorAnswer;

// A connection in the middle of a request header, with limits of 1 MiB body and 16 KiB header.
ReadErrorState MidRequest() {
  ReadErrorState state;
  state.request_started = true;
  state.buffer_empty = false;
  state.max_body_bytes = 1 << 20;
  state.max_header_bytes = 16 << 10;
  return state;
}

ReadErrorState Idle() {
  ReadErrorState state = MidRequest();
  state.request_started = false;
  state.buffer_empty = true;
  return state;
}

void ExpectClose(const Answer& answer, Answer::Count count = Answer::kNotCounted) {
  EXPECT_EQ(answer.action, Answer::kClose);
  EXPECT_EQ(answer.count, count);
  EXPECT_EQ(answer.status, 0);
  EXPECT_EQ(answer.message, "");
}

TEST(ClassifyReadError, ClosingSessionDoesNothingWhateverTheError) {
  ReadErrorState state = MidRequest();
  state.closing = true;
  for (boost::system::error_code ec : {boost::system::error_code(http::error::body_limit),
                                       boost::system::error_code(http::error::bad_method),
                                       boost::system::error_code(beast::error::timeout)}) {
    Answer answer = ClassifyReadError(ec, state);
    EXPECT_EQ(answer.action, Answer::kNothing) << ec.message();
    EXPECT_EQ(answer.count, Answer::kNotCounted) << ec.message();
  }
}

TEST(ClassifyReadError, CancelledReadDoesNothing) {
  Answer answer = ClassifyReadError(asio::error::operation_aborted, MidRequest());
  EXPECT_EQ(answer.action, Answer::kNothing);
  EXPECT_EQ(answer.count, Answer::kNotCounted);
}

TEST(ClassifyReadError, EndOfStreamCloses) {
  ExpectClose(ClassifyReadError(http::error::end_of_stream, MidRequest()));
}

TEST(ClassifyReadError, EofClosesWhetherIdleOrMidRequest) {
  ExpectClose(ClassifyReadError(asio::error::eof, Idle()));
  ExpectClose(ClassifyReadError(asio::error::eof, MidRequest()));
}

TEST(ClassifyReadError, ConnectionResetCloses) {
  ExpectClose(ClassifyReadError(asio::error::connection_reset, MidRequest()));
}

TEST(ClassifyReadError, IdleTimeoutClosesUncounted) {
  ReadErrorState state = Idle();
  state.timed_out = true;
  ExpectClose(ClassifyReadError(beast::error::timeout, state));
}

TEST(ClassifyReadError, RequestTimeoutClosesAsAProtocolError) {
  ReadErrorState state = MidRequest();
  state.timed_out = true;
  ExpectClose(ClassifyReadError(beast::error::timeout, state), Answer::kProtocolError);
}

TEST(ClassifyReadError, PartialMessageCloses) {
  ReadErrorState drained = MidRequest();
  drained.buffer_empty = true;
  ExpectClose(ClassifyReadError(http::error::partial_message, drained));
  ExpectClose(ClassifyReadError(http::error::partial_message, MidRequest()));
}

TEST(ClassifyReadError, BodyLimitIs413CountedAsARequest) {
  ReadErrorState state = MidRequest();
  state.header_done = true;
  Answer answer = ClassifyReadError(http::error::body_limit, state);
  EXPECT_EQ(answer.action, Answer::kRespond);
  EXPECT_EQ(answer.count, Answer::kRequest);
  EXPECT_EQ(answer.status, 413);
  EXPECT_EQ(answer.message, "request body over the limit of 1048576 bytes");
  EXPECT_FALSE(answer.retry_after);
}

TEST(ClassifyReadError, BodyLimitOverTheServerBudgetIs503WithRetryAfter) {
  ReadErrorState state = MidRequest();
  state.header_done = true;
  state.over_budget = true;
  Answer answer = ClassifyReadError(http::error::body_limit, state);
  EXPECT_EQ(answer.action, Answer::kRespond);
  EXPECT_EQ(answer.count, Answer::kRequest);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(answer.message,
            "server busy: request bodies being received are over the server's memory budget; retry "
            "later");
  EXPECT_TRUE(answer.retry_after);
}

TEST(ClassifyReadError, HeaderLimitIs431) {
  Answer answer = ClassifyReadError(http::error::header_limit, MidRequest());
  EXPECT_EQ(answer.action, Answer::kRespond);
  EXPECT_EQ(answer.count, Answer::kProtocolError);
  EXPECT_EQ(answer.status, 431);
  EXPECT_EQ(answer.message, "request header too large");
  EXPECT_FALSE(answer.retry_after);
}

TEST(ClassifyReadError, HeaderLimitAfterTheHeaderIsAChunkLineOrTrailer) {
  ReadErrorState state = MidRequest();
  state.header_done = true;
  Answer answer = ClassifyReadError(http::error::header_limit, state);
  EXPECT_EQ(answer.status, 431);
  EXPECT_EQ(answer.message, "chunk line or trailer over the limit of 16384 bytes");
}

TEST(ClassifyReadError, MalformedRequestIs400WithTheParserReason) {
  for (http::error e :
       {http::error::bad_method, http::error::bad_version, http::error::bad_content_length,
        http::error::bad_chunk, http::error::bad_field}) {
    boost::system::error_code ec = e;
    Answer answer = ClassifyReadError(ec, MidRequest());
    EXPECT_EQ(answer.action, Answer::kRespond) << ec.message();
    EXPECT_EQ(answer.count, Answer::kProtocolError) << ec.message();
    EXPECT_EQ(answer.status, 400) << ec.message();
    EXPECT_EQ(answer.message, "malformed HTTP request: " + ec.message());
    EXPECT_FALSE(answer.retry_after);
  }
}

}  // namespace
}  // namespace ipinsights
