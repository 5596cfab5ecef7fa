#include "ipinsights/serve/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

// Prometheus text format: in label values, backslash, double quote and newline are escaped.
TEST(ServerMetrics, LabelValuesAreEscaped) {
  ServerMetrics metrics({"a\"b\\c\nd"});
  EXPECT_THAT(metrics.Render(),
              HasSubstr("ipinsights_model_requests_total{model=\"a\\\"b\\\\c\\nd\"} 0\n"));
}

TEST(ServerMetrics, AccessLogErrorsAreExported) {
  ServerMetrics metrics({"ct"});
  metrics.AccessLogError();
  metrics.AccessLogError();
  EXPECT_THAT(metrics.Render(), HasSubstr("\nipinsights_access_log_errors_total 2\n"));
}

}  // namespace
}  // namespace ipinsights
