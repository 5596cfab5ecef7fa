#include "ipinsights/serve/read_error.h"

#include <fmt/format.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace ipinsights {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

ReadErrorAnswer Close(ReadErrorAnswer::Count count = ReadErrorAnswer::kNotCounted) {
  ReadErrorAnswer answer;
  answer.action = ReadErrorAnswer::kClose;
  answer.count = count;
  return answer;
}

ReadErrorAnswer Respond(int status, std::string message, ReadErrorAnswer::Count count) {
  ReadErrorAnswer answer;
  answer.action = ReadErrorAnswer::kRespond;
  answer.count = count;
  answer.status = status;
  answer.message = std::move(message);
  return answer;
}

}  // namespace

ReadErrorAnswer ClassifyReadError(const boost::system::error_code& ec,
                                  const ReadErrorState& state) {
  if (state.closing || (ec == asio::error::operation_aborted && !state.timed_out))
    return ReadErrorAnswer();
  // The client is gone, or was between requests: there is nobody to answer.
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset ||
      (ec == beast::error::timeout && !state.request_started) ||
      (ec == http::error::partial_message && state.buffer_empty)) {
    return Close();
  }
  if (ec == http::error::body_limit && state.over_budget) {
    ReadErrorAnswer busy = Respond(503,
                                   "server busy: request bodies being received are over the "
                                   "server's memory budget; retry later",
                                   ReadErrorAnswer::kRequest);
    busy.retry_after = true;
    return busy;
  }
  if (ec == http::error::body_limit) {
    return Respond(413,
                   fmt::format("request body over the limit of {} bytes", state.max_body_bytes),
                   ReadErrorAnswer::kRequest);
  }
  if (ec == http::error::header_limit) {
    return Respond(431,
                   state.header_done
                       ? fmt::format("chunk line or trailer over the limit of {} bytes",
                                     state.max_header_bytes)
                       : std::string("request header too large"),
                   ReadErrorAnswer::kProtocolError);
  }
  // A request's deadline passed: its socket is already closed, nothing can be answered.
  if (ec == beast::error::timeout) return Close(ReadErrorAnswer::kProtocolError);
  // The client closed mid-request (bytes were left unparsed).
  if (ec == http::error::partial_message) return Close();
  return Respond(400, "malformed HTTP request: " + ec.message(), ReadErrorAnswer::kProtocolError);
}

}  // namespace ipinsights
