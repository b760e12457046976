// git's pre-push input (ops/pre_push.hpp).
#include "dsm/error.hpp"
#include "ops/pre_push.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

const std::string k_zero(40, '0');
const std::string k_a(40, 'a');
const std::string k_b(40, 'b');

std::vector<dsm::PushedRef> parse(const std::string& text) {
  std::istringstream in(text);
  return dsm::parse_pre_push_input(in);
}

} // namespace

TEST(PrePushInput, ParsesGitsLines) {
  auto refs =
      parse("refs/heads/main " + k_a + " refs/heads/main " + k_b + "\n\n" + "refs/heads/topic " + k_b +
            " refs/heads/topic " + k_zero + "\r\n" + "(delete) " + k_zero + " refs/heads/old " + k_a + "\n");
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].local_ref, "refs/heads/main");
  EXPECT_EQ(refs[0].local_sha, k_a);
  EXPECT_EQ(refs[0].remote_ref, "refs/heads/main");
  EXPECT_EQ(refs[0].remote_sha, k_b);
  EXPECT_FALSE(refs[0].deletes());
  EXPECT_EQ(refs[1].remote_sha, k_zero); // a new branch
  EXPECT_FALSE(refs[1].deletes());
  EXPECT_TRUE(refs[2].deletes());
  EXPECT_TRUE(parse("").empty());
  // SHA-256 repositories have 64-hex ids.
  EXPECT_EQ(
      parse("refs/heads/m " + std::string(64, 'c') + " refs/heads/m " + std::string(64, '0') + "\n").size(),
      1u);
}

TEST(PrePushInput, RefusesAnythingElse) {
  for (const std::string& bad : {std::string("garbage\n"), "refs/heads/m " + k_a + " refs/heads/m\n",
                                 "refs/heads/m " + k_a + " refs/heads/m " + k_b + " extra\n",
                                 "refs/heads/m XYZ refs/heads/m " + k_b + "\n",
                                 "refs/heads/m " + std::string(40, 'A') + " refs/heads/m " + k_b + "\n"}) {
    try {
      parse(bad);
      FAIL() << "accepted: " << bad;
    } catch (const dsm::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find("pre-push input line 1"), std::string::npos) << e.what();
    }
  }
}
