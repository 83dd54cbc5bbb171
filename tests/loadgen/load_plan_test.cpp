// Which listeners a load run decrypts and checks: a sample that stands for the
// whole run, in one large conference as in many small ones.
#include "bench/loadgen/load_plan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace mrfp::loadgen {
namespace {

std::vector<std::uint32_t> sampled(const LoadPlan& plan) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t p = 0; p < plan.participant_count(); ++p) {
    if (plan.sampled(p)) out.push_back(p);
  }
  return out;
}

TEST(LoadPlanSample, OneLargeConferenceIsSampledAllOverNotJustItsFirstMembers) {
  LoadOptions options;
  options.conferences = 1;
  options.participants_per_conference = 10000;
  options.sample_listeners = 50;
  const std::vector<std::uint32_t> chosen = sampled(LoadPlan(options));
  ASSERT_EQ(chosen.size(), 50u);
  EXPECT_LT(chosen.front(), 200u);
  EXPECT_GT(chosen.back(), 9700u);  // the end of the mixer's fan-out is checked too
  for (std::size_t i = 1; i < chosen.size(); ++i) EXPECT_LT(chosen[i] - chosen[i - 1], 400u) << i;
}

TEST(LoadPlanSample, ManySmallConferencesAreSampledOverConferencesAndMembers) {
  LoadOptions options;
  options.conferences = 100;
  options.participants_per_conference = 10;
  options.sample_listeners = 50;
  const LoadPlan plan(options);
  const std::vector<std::uint32_t> chosen = sampled(plan);
  ASSERT_EQ(chosen.size(), 50u);
  std::set<std::uint32_t> conferences, members;
  for (std::uint32_t p : chosen) {
    conferences.insert(plan.conference_of(p));
    members.insert(plan.member_of(p));
  }
  EXPECT_EQ(conferences.size(), 50u);
  EXPECT_EQ(members.size(), 10u);  // talkers and silent listeners alike
}

TEST(LoadPlanSample, SmallRunsAreSampledWhole) {
  LoadOptions options;
  options.conferences = 2;
  options.participants_per_conference = 4;
  options.sample_listeners = 50;
  EXPECT_EQ(sampled(LoadPlan(options)).size(), 8u);
}

}  // namespace
}  // namespace mrfp::loadgen
