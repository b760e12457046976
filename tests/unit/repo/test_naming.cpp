// repo/naming: payload stems and reading a sequence number back from a file
// name under the configured pattern (the resolver's one source of a
// version's number).
#include "dsm/error.hpp"
#include "repo/config.hpp"
#include "repo/naming.hpp"

#include <gtest/gtest.h>

using namespace dsm;

TEST(Naming, StemFollowsTheDefaultPattern) {
  Config c;
  EXPECT_EQ(payload_stem(c, "features", "20261206", 1), "features_20261206_001");
  EXPECT_EQ(payload_stem(c, "sweep/a/features", "20261206", 42), "features_20261206_042");
  EXPECT_EQ(payload_stem(c, "x", "20261206", 1000), "x_20261206_1000"); // wider past 999
}

TEST(Naming, MatchSeqReadsTheNumberBackFromEveryFileOfAVersion) {
  Config c;
  EXPECT_EQ(match_seq(c, "features", "features_20261206_001.npy"), 1u);
  EXPECT_EQ(match_seq(c, "features", "features_20261206_001.npy.yaml"), 1u);
  EXPECT_EQ(match_seq(c, "features", "features_20261206_017"), 17u); // a chunked version's directory
  EXPECT_EQ(match_seq(c, "sweep/features", "features_20261206_1000.npz"), 1000u);
}

TEST(Naming, MatchSeqRefusesWhatThePatternDidNotMake) {
  Config c;
  EXPECT_FALSE(match_seq(c, "features", "labels_20261206_001.npy"));   // another name
  EXPECT_FALSE(match_seq(c, "features", "features_2026120_001.npy"));  // short date
  EXPECT_FALSE(match_seq(c, "features", "features_20261206_.npy"));    // no number
  EXPECT_FALSE(match_seq(c, "features", "features_20261206_01.npy"));  // not zero-padded to 3
  EXPECT_FALSE(match_seq(c, "features", "features_20261206_001x.npy")); // trailing text
  EXPECT_FALSE(match_seq(c, "features", "my_features_20261206_001.npy"));
  EXPECT_FALSE(match_seq(c, "features", "features_7.npy")); // trailing digits are not a version
}

TEST(Naming, AConfiguredPatternIsTheOneThatCounts) {
  Config c;
  c.naming = "{seq}-{name}-{date}";
  EXPECT_EQ(payload_stem(c, "features", "20261206", 3), "003-features-20261206");
  EXPECT_EQ(match_seq(c, "features", "003-features-20261206.npy"), 3u);
  // The default pattern's file names are not versions under this one.
  EXPECT_FALSE(match_seq(c, "features", "features_20261206_003.npy"));
}

TEST(Naming, NamesAreValidatedSegmentBySegment) {
  EXPECT_TRUE(name_ok("features"));
  EXPECT_TRUE(name_ok("sweep.A/run-1/features_x"));
  for (const char* bad : {"", "/x", "x/", "a//b", "..", "a/../b", ".hidden", "-x", "a b", "x@1"}) {
    EXPECT_FALSE(name_ok(bad)) << bad;
    EXPECT_THROW(validate_name(bad), Error) << bad;
  }
  EXPECT_EQ(last_segment("sweep/a/features"), "features");
}
