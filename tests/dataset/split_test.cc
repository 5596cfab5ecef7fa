#include "ipinsights/dataset/split.h"

#include <gtest/gtest.h>

#include <string>

namespace ipinsights {
namespace {

TEST(SplitByFraction, EachEventIsDrawnOnItsOwnSoRepeatedRelationsStayInTraining) {
  const Split split = Split::ByFraction(0.1);
  int relations_withheld = 0, events_in_validation = 0;
  for (int entity = 0; entity < 1000; ++entity) {
    const std::string row = "user" + std::to_string(entity) + ",192.0.2.1";
    int in_validation = 0;
    for (int64_t event = 0; event < 5; ++event) {
      const int64_t time = 1709251200 + 3600 * event;
      const bool validation = split.ToValidation(row, time);
      EXPECT_EQ(validation, split.ToValidation(row, time)) << "not deterministic";
      in_validation += validation;
    }
    events_in_validation += in_validation;
    relations_withheld += in_validation == 5;
  }
  // 10% of 5,000 events; a relation of 5 events leaves training with probability 1e-5.
  EXPECT_GT(events_in_validation, 400);
  EXPECT_LT(events_in_validation, 600);
  EXPECT_EQ(relations_withheld, 0);
}

TEST(SplitByFraction, EdgesAndEventTime) {
  EXPECT_FALSE(Split::ByFraction(0).ToValidation("a,1.2.3.4", 1));
  EXPECT_TRUE(Split::ByFraction(1).ToValidation("a,1.2.3.4", std::nullopt));
  EXPECT_TRUE(Split::ByFraction(0.1).needs_event_time());
  EXPECT_TRUE(Split::AtDate(Date{2024, 3, 1}).needs_event_time());
  EXPECT_FALSE(Split::None().needs_event_time());
}

}  // namespace
}  // namespace ipinsights
