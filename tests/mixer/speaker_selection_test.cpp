// Top-K speaker selection: ranking, hysteresis, hold time (hangover and tenure).
#include "mixer/speaker_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace mrfp::mixer {
namespace {

// Runs one tick with the given RFC 6464 levels (index = slot; 255 = not observed).
void tick(SpeakerSelection& sel, const std::vector<int>& levels) {
  sel.begin_tick();
  for (std::uint32_t slot = 0; slot < levels.size(); ++slot) {
    if (levels[slot] != 255) sel.observe(slot, static_cast<std::uint8_t>(levels[slot]), true);
  }
  sel.end_tick();
}

std::vector<std::uint32_t> sorted_speakers(const SpeakerSelection& sel) {
  std::vector<std::uint32_t> out(sel.speakers().begin(), sel.speakers().end());
  std::sort(out.begin(), out.end());
  return out;
}

using Slots = std::vector<std::uint32_t>;

TEST(SpeakerSelection, PicksTheKLoudestActiveParticipants) {
  SpeakerSelection sel({.max_speakers = 3}, 6);
  tick(sel, {40, 10, 127, 20, 30, 45});
  EXPECT_EQ(sorted_speakers(sel), (Slots{1, 3, 4}));
  EXPECT_TRUE(sel.newly_selected(1));
  EXPECT_FALSE(sel.is_speaker(0));
}

TEST(SpeakerSelection, SilenceAndBelowThresholdAreNeverSelected) {
  SpeakerSelection sel({.max_speakers = 3, .activity_threshold_dbov = 50}, 3);
  tick(sel, {51, 127, 50});
  EXPECT_EQ(sorted_speakers(sel), (Slots{2}));
}

TEST(SpeakerSelection, KZeroMeansEveryActiveParticipant) {
  SpeakerSelection sel({.max_speakers = 0}, 5);
  tick(sel, {10, 20, 127, 30, 40});
  EXPECT_EQ(sorted_speakers(sel), (Slots{0, 1, 3, 4}));
}

TEST(SpeakerSelection, ActiveParticipantsWithoutASeatAreListedAsWaitingLoudestFirst) {
  SpeakerSelection sel({.max_speakers = 2, .hold_ticks = 5}, 6);
  tick(sel, {30, 30, 255, 255, 255, 255});
  ASSERT_EQ(sorted_speakers(sel), (Slots{0, 1}));
  EXPECT_TRUE(sel.waiting().empty());
  // Three talkers start while both seats are held: the two loudest wait
  // (at most K are listed); silence never does.
  tick(sel, {30, 30, 28, 25, 29, 127});
  ASSERT_EQ(sorted_speakers(sel), (Slots{0, 1}));
  EXPECT_EQ(Slots(sel.waiting().begin(), sel.waiting().end()), (Slots{3, 2}));
  // One holder stops: the loudest waiting talker takes its seat, the other
  // holder is within its tenure, so the next one still waits.
  tick(sel, {127, 30, 28, 25, 29, 127});
  EXPECT_EQ(sorted_speakers(sel), (Slots{1, 3}));
  EXPECT_EQ(Slots(sel.waiting().begin(), sel.waiting().end()), (Slots{2}));
}

TEST(SpeakerSelection, ChallengerMustBeatTheQuietestByTheHysteresis) {
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 0}, 2);
  tick(sel, {30, 255});
  ASSERT_EQ(sorted_speakers(sel), (Slots{0}));
  // 5 dB louder: not enough, tick after tick.
  for (int i = 0; i < 10; ++i) tick(sel, {30, 25});
  EXPECT_EQ(sorted_speakers(sel), (Slots{0}));
  // 7 dB louder: takes the seat.
  tick(sel, {30, 23});
  EXPECT_EQ(sorted_speakers(sel), (Slots{1}));
  EXPECT_TRUE(sel.newly_selected(1));
}

TEST(SpeakerSelection, TenureProtectsANewSpeakerForTheHoldTime) {
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 5}, 2);
  tick(sel, {40, 255});  // tick 1: slot 0 selected
  for (int t = 2; t <= 5; ++t) {
    tick(sel, {40, 10});  // far louder, but slot 0 is within its tenure
    EXPECT_EQ(sorted_speakers(sel), (Slots{0})) << "tick " << t;
  }
  tick(sel, {40, 10});  // tick 6: tenure over
  EXPECT_EQ(sorted_speakers(sel), (Slots{1}));
}

TEST(SpeakerSelection, HangoverKeepsASpeakerThroughPausesThenReleasesIt) {
  SpeakerSelection sel({.max_speakers = 2, .hold_ticks = 3}, 2);
  tick(sel, {20, 127});
  for (int i = 0; i < 3; ++i) {
    tick(sel, {127, 127});
    EXPECT_EQ(sorted_speakers(sel), (Slots{0})) << i;
  }
  tick(sel, {127, 127});
  EXPECT_TRUE(sorted_speakers(sel).empty());
}

TEST(SpeakerSelection, ANewTalkerTakesTheSeatOfOneWhoStoppedOnTheFirstSilentTick) {
  // Talkers change places at once (one stops as the other starts): the seat
  // changes hands on the first tick, not after the hangover or the tenure.
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 20}, 2);
  tick(sel, {20, 127});
  tick(sel, {20, 127});
  ASSERT_EQ(sorted_speakers(sel), (Slots{0}));
  tick(sel, {127, 20});
  EXPECT_EQ(sorted_speakers(sel), (Slots{1}));
  EXPECT_TRUE(sel.newly_selected(1));
}

TEST(SpeakerSelection, APauseKeepsTheSeatAgainstAQuieterTalkerUntilTheDecayCrossesIt) {
  // Slot 0 (-20 dBov) pauses while slot 1 talks 10 dB quieter: slot 0's
  // smoothed loudness falls 1 dB per silent tick and is passed on the 11th,
  // well within the 20-tick hangover.
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 20}, 2);
  tick(sel, {20, 30});
  ASSERT_EQ(sorted_speakers(sel), (Slots{0}));
  for (int silent = 1; silent <= 10; ++silent) {
    tick(sel, {127, 30});
    ASSERT_EQ(sorted_speakers(sel), (Slots{0})) << "silent tick " << silent;
  }
  tick(sel, {127, 30});
  EXPECT_EQ(sorted_speakers(sel), (Slots{1}));
}

TEST(SpeakerSelection, ATalkingSpeakerIsStillProtectedByTenureAndHysteresis) {
  // The same challenger that takes a silent speaker's seat at once waits while
  // the speaker talks: tenure first, then the 6 dB margin.
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 5}, 2);
  tick(sel, {20, 127});
  for (int i = 0; i < 20; ++i) {
    tick(sel, {20, 17});  // 3 dB louder: never enough
    ASSERT_EQ(sorted_speakers(sel), (Slots{0})) << i;
  }
}

TEST(SpeakerSelection, UnobservedSpeakerLosesItsSeatAtOnce) {
  SpeakerSelection sel({.max_speakers = 2, .hold_ticks = 50}, 2);
  tick(sel, {20, 30});
  ASSERT_EQ(sorted_speakers(sel), (Slots{0, 1}));
  tick(sel, {255, 30});  // slot 0 muted or held
  EXPECT_EQ(sorted_speakers(sel), (Slots{1}));
}

TEST(SpeakerSelection, NoFlappingBetweenTwoEqualTalkers) {
  // Two talkers whose levels alternate by 4 dB every tick, one seat: the seat
  // never changes hands.
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 2}, 2);
  tick(sel, {30, 34});
  const auto first = sel.speakers()[0];
  for (int i = 0; i < 200; ++i) {
    tick(sel, i % 2 ? std::vector<int>{30, 34} : std::vector<int>{34, 30});
    ASSERT_EQ(sel.speakers().size(), 1u);
    ASSERT_EQ(sel.speakers()[0], first) << i;
  }
}

TEST(SpeakerSelection, SmoothingRanksATalkerAboveSteadyNoiseBetweenWords) {
  // Slot 0 talks at -20 dBov with a silent frame every other tick; slot 1 is a
  // steady -40 dBov. With one seat the talker holds it: on its silent ticks
  // its smoothed loudness (-21 dBov) still beats the noise.
  SpeakerSelection sel({.max_speakers = 1, .hysteresis_db = 6, .hold_ticks = 2}, 2);
  for (int i = 0; i < 50; ++i) {
    tick(sel, {i % 2 ? 127 : 20, 40});
    ASSERT_EQ(sorted_speakers(sel), (Slots{0})) << i;
  }
}

TEST(SpeakerSelection, SmoothedLoudnessJumpsUpAndDecaysOneDbPerTick) {
  SpeakerSelection sel({.max_speakers = 1, .decay_sixteenth_db_per_tick = 16}, 1);
  tick(sel, {20});
  EXPECT_EQ(sel.smoothed_loudness(0), (127 - 20) * 16);
  for (int i = 0; i < 5; ++i) tick(sel, {127});
  EXPECT_EQ(sel.smoothed_loudness(0), (127 - 20 - 5) * 16);
  tick(sel, {255});  // not observed: the decay catches up at the next observation
  tick(sel, {255});
  tick(sel, {127});
  EXPECT_EQ(sel.smoothed_loudness(0), (127 - 20 - 8) * 16);
  tick(sel, {10});
  EXPECT_EQ(sel.smoothed_loudness(0), (127 - 10) * 16);
}

TEST(SpeakerSelection, VoiceFlagIsHonouredOnlyWhenTrusted) {
  SpeakerSelection trusting({.max_speakers = 2, .trust_voice_activity_flag = true}, 1);
  trusting.begin_tick();
  trusting.observe(0, 10, false);
  trusting.end_tick();
  EXPECT_TRUE(trusting.speakers().empty());

  SpeakerSelection ignoring({.max_speakers = 2, .trust_voice_activity_flag = false}, 1);
  ignoring.begin_tick();
  ignoring.observe(0, 10, false);
  ignoring.end_tick();
  EXPECT_EQ(ignoring.speakers().size(), 1u);
}

TEST(SpeakerSelection, ResetFreesTheSeatAndKeepsOthersInOrder) {
  SpeakerSelection sel({.max_speakers = 3}, 3);
  tick(sel, {10, 20, 30});
  sel.reset(1);
  EXPECT_FALSE(sel.is_speaker(1));
  EXPECT_EQ(sorted_speakers(sel), (Slots{0, 2}));
}

TEST(SpeakerSelection, ManyParticipantsOnlyTheLoudestK) {
  constexpr std::uint32_t n = 10000;
  SpeakerSelection sel({.max_speakers = 3}, n);
  std::vector<int> levels(n, 45);
  levels[1234] = 5;
  levels[9999] = 6;
  levels[0] = 7;
  tick(sel, levels);
  EXPECT_EQ(sorted_speakers(sel), (Slots{0, 1234, 9999}));
}

}  // namespace
}  // namespace mrfp::mixer
