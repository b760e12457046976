#include "util/text.hpp"

#include <gtest/gtest.h>

using dsm::util::most_similar;

TEST(MostSimilar, SmallestDistanceWins) {
  std::vector<std::string> names = {"add", "diff", "pull", "push", "status", "verify"};
  EXPECT_EQ(most_similar("sttus", names), std::vector<std::string>{"status"});
  EXPECT_EQ(most_similar("verfy", names), std::vector<std::string>{"verify"});
  // A prefix counts as closest; ties are all returned, in the given order.
  EXPECT_EQ(most_similar("pu", names), (std::vector<std::string>{"pull", "push"}));
}

TEST(MostSimilar, NothingCloseIsNothing) {
  std::vector<std::string> names = {"features", "labels"};
  EXPECT_TRUE(most_similar("xyzzyplugh", names).empty());
  EXPECT_TRUE(most_similar("a", {}).empty());
  // The bound grows with the word: a third of its length, at least 2.
  EXPECT_EQ(most_similar("sweepA/featurs", {"sweepA/features", "sweepB/labels"}),
            std::vector<std::string>{"sweepA/features"});
}
