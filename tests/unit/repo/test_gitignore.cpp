#include "repo/gitignore.hpp"

#include <gtest/gtest.h>

using namespace dsm::gitignore;

namespace {
const std::vector<std::string> k_ext = {".npy", ".npz"};
}

TEST(CoreGitignore, RenderBlock) {
  std::string b = render_block("data", k_ext);
  EXPECT_EQ(b, std::string(k_begin) + "\n/data/**/*.npy\n/data/**/*.npz\n.dsm-tmp-*\n/.dsm/local/\n" +
                 std::string(k_end) + "\n");
  EXPECT_NE(render_block("my data[1]", k_ext).find("/my\\ data\\[1\\]/**/*.npy"), std::string::npos);
}

TEST(CoreGitignore, MissingIntactModified) {
  std::string b = render_block("data", k_ext);
  EXPECT_EQ(check_block("", b), BlockState::missing);
  EXPECT_EQ(check_block("*.o\n", b), BlockState::missing);
  EXPECT_EQ(check_block("*.o\n" + b + "build/\n", b), BlockState::intact);
  std::string edited = b;
  edited.replace(edited.find("/data/**/*.npz\n"), 15, "");
  EXPECT_EQ(check_block(edited, b), BlockState::modified);
  EXPECT_EQ(check_block(b + b, b), BlockState::modified);
  EXPECT_EQ(check_block(std::string(k_begin) + "\nfoo\n", b), BlockState::modified);
}

TEST(CoreGitignore, RepairIsIdempotentAndKeepsUserLines) {
  std::string b = render_block("data", k_ext);
  std::string appended = repair_text("*.o", b);
  EXPECT_EQ(appended, "*.o\n" + b);
  EXPECT_EQ(repair_text(appended, b), appended);
  std::string edited = "top\n" + std::string(k_begin) + "\n/data/**/*.npy\nmine\n" + std::string(k_end) + "\nbottom\n";
  std::string fixed = repair_text(edited, b);
  EXPECT_EQ(fixed, "top\n" + b + "bottom\n");
  EXPECT_EQ(check_block(fixed, b), BlockState::intact);
  std::string doubled = repair_text("a\n" + b + "b\n" + b, b);
  EXPECT_EQ(doubled, "a\n" + b + "b\n");
  std::string stray = repair_text(std::string(k_end) + "\nuser\n", b);
  EXPECT_EQ(stray, "user\n" + b);
  EXPECT_EQ(repair_text(stray, b), stray);
}
