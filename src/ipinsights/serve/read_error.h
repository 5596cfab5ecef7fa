// ClassifyReadError: what the server does when reading a request fails (the client went
// away, its deadline passed, or it sent something that is not HTTP or is over a limit).
// A pure function of the error and the connection's state, so that each case is a unit test;
// http_server.cc's OnReadError only carries the answer out. Internal to the server, like
// http_request_parser.h: the Boost error code is visible here.
//
// The policy:
//   - the session is already closing, or its read was cancelled: nothing to do;
//   - the client ended or reset the connection, went quiet between requests, or left
//     mid-request: close without an answer (nobody would read it);
//   - a request's deadline passed: close, counted as a protocol error (the socket is gone);
//   - over a limit or not HTTP: answer 413, 431, 503 (the server-wide body budget, with
//     Retry-After) or 400, then half-close and linger (the body was not read).
//
// Thread-safety: a pure function.
//
//   ReadErrorAnswer answer = ClassifyReadError(ec, state);
//   if (answer.action == ReadErrorAnswer::kClose) return Shutdown();
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string>

namespace ipinsights {

// What the connection knows when its read fails.
struct ReadErrorState {
  bool closing = false;          // the session is already ending
  bool timed_out = false;        // its deadline passed (the sweep closed the socket)
  bool request_started = false;  // bytes of a request had arrived (false: idle keep-alive)
  bool buffer_empty = true;      // no received byte is left unparsed
  bool header_done = false;      // the request header was read whole
  bool over_budget = false;      // a body limit hit was the server-wide budget's, not the request's
  size_t max_body_bytes = 0;     // for the 413 message
  size_t max_header_bytes = 0;   // for the 431 message
};

struct ReadErrorAnswer {
  enum Action {
    kNothing,  // the session is ending already
    kClose,    // close without answering
    kRespond,  // answer `status` with `message`, then half-close and linger
  };
  // How ServerMetrics counts it.
  enum Count {
    kNotCounted,
    kProtocolError,  // ServerMetrics::ProtocolError
    kRequest,        // ServerMetrics::RecordRequest(route of the target, status): a well-formed
                     // request refused for its size or for the server's load
  };
  Action action = kNothing;
  Count count = kNotCounted;
  int status = 0;            // with kRespond
  std::string message;       // with kRespond: the error message of the answer
  bool retry_after = false;  // with kRespond: add Retry-After: 1 (a 503)
};

// The answer to a failed read; `ec` is what the socket read or the HTTP parser reported
// (beast::error::timeout when the deadline passed).
ReadErrorAnswer ClassifyReadError(const boost::system::error_code& ec, const ReadErrorState& state);

}  // namespace ipinsights
