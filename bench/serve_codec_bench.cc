// Benchmarks of the serve request path without sockets: CSV decoding, response encoding,
// and the whole router (decode, score with a tutorial-shaped model, encode) for one pair and
// for 10,000 pairs. Each benchmark checks its result, so a fast wrong answer fails.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"
#include "ipinsights/serve/model_scorer.h"
#include "ipinsights/serve/request_codec.h"
#include "ipinsights/serve/response_codec.h"
#include "ipinsights/serve/router.h"

namespace ipinsights {
namespace {

std::string CsvRows(int n) {
  std::string body;
  for (int i = 0; i < n; ++i)
    body += "user" + std::to_string(i % 20000) + "," + std::to_string(1 + i % 223) + "." +
            std::to_string(i % 251) + ".3.7\n";
  return body;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "serve_codec_bench: wrong result: %s\n", what);
    std::abort();
  }
}

void BM_DecodeCsv10k(benchmark::State& state) {
  std::string body = CsvRows(10000);
  PairBatch batch;
  for (auto _ : state) {
    batch.Clear();
    Check(!DecodeCsv(body, &batch).has_value() && batch.size() == 10000, "decode");
    benchmark::DoNotOptimize(batch.ips.data());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_DecodeCsv10k);

void BM_EncodeJson10k(benchmark::State& state) {
  std::vector<float> scores(10000);
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = 0.001f * static_cast<float>(i) - 3.3f;
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeResponse(ResponseFormat{}, scores, {}, {}, 0, &out);
    Check(out.size() > 10000 * 16, "encode");
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_EncodeJson10k);

struct Fixture {
  Fixture()
      : metrics({"ct"}),
        registry(
            {{"ct", "mem"}}, [this](const std::string&) { return scorer; }, &metrics),
        router(&registry, &metrics, {}) {
    Hyperparameters hp;
    hp.num_entity_vectors = 20000;
    hp.vector_dim = 128;
    scorer = std::make_shared<ModelScorer>(Model::Create(hp, 7));
    registry.LoadAll();
  }
  std::shared_ptr<const Scorer> scorer;
  ServerMetrics metrics;
  ModelRegistry registry;
  Router router;
};

Fixture& SharedFixture() {
  static Fixture fixture;
  return fixture;
}

void RouterBench(benchmark::State& state, int rows) {
  Fixture& f = SharedFixture();
  std::string body = CsvRows(rows);
  HttpRequestView request;
  request.method = "POST";
  request.target = "/invocations";
  request.content_type = "text/csv";
  request.body = body;
  HttpResponse response;
  for (auto _ : state) {
    f.router.Handle(request, &response);
    Check(response.status == 200, "router status");
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void BM_RouterOnePair(benchmark::State& state) { RouterBench(state, 1); }
BENCHMARK(BM_RouterOnePair);
void BM_Router10kPairs(benchmark::State& state) { RouterBench(state, 10000); }
BENCHMARK(BM_Router10kPairs);

void BM_ScoreBatch10k(benchmark::State& state) {
  Fixture& f = SharedFixture();
  std::string body = CsvRows(10000);
  PairBatch batch;
  DecodeCsv(body, &batch);
  std::vector<float> scores(batch.size());
  for (auto _ : state) {
    f.scorer->ScoreBatch(batch.entities.data(), batch.ips.data(), batch.size(), scores.data());
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_ScoreBatch10k);

}  // namespace
}  // namespace ipinsights

BENCHMARK_MAIN();
