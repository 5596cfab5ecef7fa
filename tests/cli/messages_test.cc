// What the command line says when a newcomer mistypes: the word, the nearest command, the
// range of a count, always with exit code 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../testing/command.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::IpinsightsBinary;
using testing::RunShell;

CommandResult Ipinsights(const std::string& args) {
  return RunShell("'" + IpinsightsBinary() + "' " + args + " 2>&1");
}

TEST(CliMessages, UnknownCommandIsNamedWithTheNearestOne) {
  CommandResult typo = Ipinsights("trian --train x");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.out, HasSubstr("unknown command \"trian\"; did you mean \"train\"?"));

  CommandResult after_option = Ipinsights("--endpoint-url http://127.0.0.1:9 scroe --pairs x");
  EXPECT_EQ(after_option.exit_code, 2);
  EXPECT_THAT(after_option.out, HasSubstr("did you mean \"score\"?"));

  CommandResult kind = Ipinsights("simulate kubernetes --out x");
  EXPECT_EQ(kind.exit_code, 2);
  EXPECT_THAT(kind.out,
              HasSubstr("simulate: unknown command \"kubernetes\" (commands: cloudtrail, waf)"));

  CommandResult nothing_near = Ipinsights("xyzzyq");
  EXPECT_EQ(nothing_near.exit_code, 2);
  EXPECT_THAT(nothing_near.out, HasSubstr("unknown command \"xyzzyq\" (commands: simulate,"));
}

TEST(CliMessages, KnownCommandsAndHelpStillParse) {
  EXPECT_EQ(Ipinsights("--help").exit_code, 0);
  EXPECT_EQ(Ipinsights("simulate waf --help").exit_code, 0);
  EXPECT_EQ(Ipinsights("--version").exit_code, 0);
}

TEST(CliMessages, SimulateRefusesZeroUsersInsteadOfSimulatingAThousand) {
  CommandResult zero = Ipinsights("simulate cloudtrail --users 0 --out /nonexistent/never-made");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_THAT(zero.out, HasSubstr("--users: Value 0 not in range 1 to 50000000"));
}

TEST(CliMessages, HelpListsOnlyWhatIsAvailable) {
  CommandResult top = Ipinsights("--help");
  EXPECT_THAT(top.out, HasSubstr("prepare"));
  EXPECT_THAT(top.out, ::testing::Not(HasSubstr("not available")));
  EXPECT_THAT(Ipinsights("evaluate --help").out, ::testing::Not(HasSubstr("not available")));
}

TEST(CliMessages, ServeWithoutModelOutsideAContainerSaysToGiveOne) {
  CommandResult serve = Ipinsights("serve --port 0");
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.out, HasSubstr("serve: give the model to serve: --model"));
}

TEST(CliMessages, TrainHelpShowsEveryHyperparameterDefaultAndRange) {
  CommandResult help = Ipinsights("train --help");
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--num-entity-vectors INT"));
  EXPECT_THAT(help.out, HasSubstr("(default 100000, range 1..250000000)"));
  EXPECT_THAT(help.out, HasSubstr("--learning-rate FLOAT"));
  EXPECT_THAT(help.out, HasSubstr("(default 0.001, range 1e-06..10)"));
  EXPECT_THAT(help.out, HasSubstr("(default 10, at least 1)"));
}

}  // namespace
}  // namespace ipinsights
