// paced_load: an open-loop HTTP/1.1 load generator that sends at a fixed total rate spread
// evenly in time, for latency at a given rate (bench/serve_bench.sh).
//
// Why not only h2load --rps: h2load gives every connection its own timer with the same
// period, started together, so 64 connections at 47,000 req/s send in bursts of 64 every
// 1.36 ms, and what it measures at p50 is mostly the server working through each burst.
// Here request k of the run is due at start + k / rate, and goes to connection k mod C
// (wrk2's way of pacing), handed out on a tick of 100 us or the interval. Latency is counted from
// the moment the request was due, not the moment it was sent, so a connection still waiting on its
// previous answer cannot hide a stall (coordinated omission).
//
//   paced_load --port 8080 --path /invocations --rate 47000 --connections 64 --duration 8
//              --header 'Content-Type: text/csv' --body-file one_pair.csv
//
// Prints one JSON object: sent, answered, non_200, errors, rate, p50_ms, p90_ms, p99_ms,
// p999_ms, max_ms. Linux only (epoll, timerfd).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";
  std::vector<std::string> headers;
  std::string body;
  double rate = 1000;
  int connections = 16;
  double duration_s = 8;
  std::string
      log_file;  // a line per request: due (us from start), latency from due, from sent (us)
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "paced_load: %s\n", message.c_str());
  std::exit(1);
}

Options ParseArgs(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--host") {
      options.host = value();
    } else if (arg == "--port") {
      options.port = std::atoi(value().c_str());
    } else if (arg == "--path") {
      options.path = value();
    } else if (arg == "--header") {
      options.headers.push_back(value());
    } else if (arg == "--body-file") {
      std::string file = value();
      std::ifstream in(file, std::ios::binary);
      if (!in) Fail(file + ": cannot read");
      std::ostringstream text;
      text << in.rdbuf();
      options.body = text.str();
    } else if (arg == "--rate") {
      options.rate = std::atof(value().c_str());
    } else if (arg == "--connections") {
      options.connections = std::atoi(value().c_str());
    } else if (arg == "--duration") {
      options.duration_s = std::atof(value().c_str());
    } else if (arg == "--log-file") {
      options.log_file = value();
    } else if (arg == "--help" || arg == "-h") {
      std::puts(
          "usage: paced_load --port P [--host H] [--path /x] [--header 'K: V']... [--body-file F]\n"
          "                  [--rate REQ_PER_S] [--connections C] [--duration SECONDS] [--log-file "
          "F]\n"
          "Sends POST (GET without --body-file) requests at REQ_PER_S in all, evenly spaced and\n"
          "spread over C keep-alive connections; latency counts from when each request was due.");
      std::exit(0);
    } else {
      Fail("unknown argument " + std::string(arg) + " (see --help)");
    }
  }
  if (options.port <= 0 || options.port > 65535) Fail("--port is required");
  if (options.rate <= 0 || options.connections <= 0 || options.duration_s <= 0)
    Fail("--rate, --connections and --duration must be positive");
  return options;
}

struct Connection {
  int fd = -1;
  std::deque<Clock::time_point> due;  // requests owed on this connection, oldest first
  bool in_flight = false;             // one request at a time (no pipelining)
  Clock::time_point in_flight_due;
  Clock::time_point in_flight_sent;
  std::string input;  // response bytes not yet parsed
};

// Length of the first complete response in `input`, 0 if it is not all here, and its status.
size_t ResponseLength(const std::string& input, int* status) {
  size_t header_end = input.find("\r\n\r\n");
  if (header_end == std::string::npos) return 0;
  *status = input.size() > 12 ? std::atoi(input.c_str() + 9) : 0;
  size_t content_length = 0;
  size_t line = input.find("\r\n") + 2;
  while (line < header_end) {
    size_t next = input.find("\r\n", line);
    std::string_view field(input.data() + line, next - line);
    if (field.size() > 15 && strncasecmp(field.data(), "content-length:", 15) == 0)
      content_length = std::strtoull(field.data() + 15, nullptr, 10);
    line = next + 2;
  }
  size_t total = header_end + 4 + content_length;
  return input.size() >= total ? total : 0;
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t index =
      std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  std::string request = (options.body.empty() ? "GET " : "POST ") + options.path +
                        " HTTP/1.1\r\nHost: " + options.host + "\r\n";
  for (const std::string& header : options.headers) request += header + "\r\n";
  if (!options.body.empty())
    request += "Content-Length: " + std::to_string(options.body.size()) + "\r\n";
  request += "\r\n" + options.body;

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  if (inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1)
    Fail("bad --host " + options.host);

  int epoll = epoll_create1(0);
  std::vector<Connection> connections(options.connections);
  for (size_t i = 0; i < connections.size(); ++i) {
    Connection& c = connections[i];
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      Fail("connect: " + std::string(std::strerror(errno)));
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &event);
  }
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  epoll_event timer_event{};
  timer_event.events = EPOLLIN;
  timer_event.data.u64 = connections.size();
  epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event);

  const auto interval = std::chrono::duration<double>(1.0 / options.rate);
  const uint64_t total = static_cast<uint64_t>(options.rate * options.duration_s);
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(10);
  auto due_at = [&](uint64_t k) {
    return start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(k));
  };
  std::vector<double> latencies_ms;  // from when each request was due
  std::vector<double> service_ms;    // from when it was sent
  latencies_ms.reserve(total);
  service_ms.reserve(total);
  struct Sample {
    double due_us, latency_us, service_us;
  };
  std::vector<Sample> samples;  // for --log-file
  uint64_t next = 0, sent = 0, non_200 = 0, errors = 0;

  auto send_next = [&](Connection& c) {
    if (c.in_flight || c.due.empty()) return;
    c.in_flight_due = c.due.front();
    c.due.pop_front();
    c.in_flight = true;
    c.in_flight_sent = Clock::now();
    if (send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      Fail("send: " + std::string(std::strerror(errno)) + " (the server closed a connection?)");
    }
    ++sent;
  };
  // One periodic tick hands out every request due by then: every interval, but at most every
  // 100 us, so that the generator's own wake-ups stay cheap next to the server's work. (Steady
  // clock and CLOCK_MONOTONIC are the same clock on Linux.)
  {
    auto first =
        std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
    auto period = std::max<int64_t>(100000, static_cast<int64_t>(1e9 / options.rate));
    itimerspec spec{};
    spec.it_value.tv_sec = first / 1000000000;
    spec.it_value.tv_nsec = first % 1000000000;
    spec.it_interval.tv_sec = period / 1000000000;
    spec.it_interval.tv_nsec = period % 1000000000;
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, nullptr);
  }
  const Clock::time_point end_by = due_at(total) + std::chrono::seconds(10);
  epoll_event events[256];
  char buffer[65536];
  while (latencies_ms.size() + errors < total) {
    int n = epoll_wait(epoll, events, 256, 100);
    Clock::time_point now = Clock::now();
    if (now > end_by) {
      errors += total - latencies_ms.size() - errors;
      break;
    }
    for (int e = 0; e < n; ++e) {
      size_t index = events[e].data.u64;
      if (index == connections.size()) {
        uint64_t expirations;
        [[maybe_unused]] ssize_t r = read(timer, &expirations, sizeof(expirations));
        continue;
      }
      Connection& c = connections[index];
      ssize_t got = recv(c.fd, buffer, sizeof(buffer), 0);
      if (got <= 0) Fail("the server closed a connection");
      c.input.append(buffer, static_cast<size_t>(got));
      int status = 0;
      while (size_t length = ResponseLength(c.input, &status)) {
        if (!c.in_flight) Fail("an answer nobody asked for");
        c.input.erase(0, length);
        c.in_flight = false;
        latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(now - c.in_flight_due).count());
        service_ms.push_back(
            std::chrono::duration<double, std::milli>(now - c.in_flight_sent).count());
        if (!options.log_file.empty())
          samples.push_back(
              {std::chrono::duration<double, std::micro>(c.in_flight_due - start).count(),
               latencies_ms.back() * 1000, service_ms.back() * 1000});
        if (status != 200) ++non_200;
        send_next(c);
      }
    }
    // Hand out every request now due, round robin, and wake at the next one's time.
    while (next < total && due_at(next) <= now) {
      Connection& c = connections[next % connections.size()];
      c.due.push_back(due_at(next));
      ++next;
      send_next(c);
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (!options.log_file.empty()) {
    std::FILE* log = std::fopen(options.log_file.c_str(), "w");
    if (log == nullptr) Fail(options.log_file + ": cannot write");
    for (const Sample& sample : samples)
      std::fprintf(log, "%.0f %.0f %.0f\n", sample.due_us, sample.latency_us, sample.service_us);
    std::fclose(log);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::sort(service_ms.begin(), service_ms.end());
  std::printf(
      "{\"sent\":%llu,\"answered\":%zu,\"non_200\":%llu,\"errors\":%llu,\"rate\":%.0f,\"p50_ms\":%."
      "3f,"
      "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"sent_p50_ms\":%.3f,"
      "\"sent_p99_ms\":%.3f,"
      "\"sent_p999_ms\":%.3f}\n",
      static_cast<unsigned long long>(sent), latencies_ms.size(),
      static_cast<unsigned long long>(non_200), static_cast<unsigned long long>(errors),
      static_cast<double>(latencies_ms.size()) / elapsed, Percentile(latencies_ms, 0.5),
      Percentile(latencies_ms, 0.9), Percentile(latencies_ms, 0.99),
      Percentile(latencies_ms, 0.999), latencies_ms.empty() ? 0.0 : latencies_ms.back(),
      Percentile(service_ms, 0.5), Percentile(service_ms, 0.99), Percentile(service_ms, 0.999));
  for (Connection& c : connections) close(c.fd);
  return errors == 0 && non_200 == 0 ? 0 : 1;
}
