// The one temporary-directory fixture of the unit tests (ccache's
// TestUtil::TestContext, ninja's ScopedTempDir): a fresh directory under
// /tmp, canonical (no symlinked /tmp surprises), the current directory
// while the test runs, removed afterwards unless the test failed (then its
// path is printed, to look at what was left).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace dsm::testing {

class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsm-unit-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    ASSERT_NE(made, nullptr) << "mkdtemp failed";
    m_dir = std::filesystem::canonical(made);
    m_old = std::filesystem::current_path();
    std::filesystem::current_path(m_dir);
  }
  void TearDown() override {
    std::filesystem::current_path(m_old);
    if (HasFailure()) {
      std::cerr << "kept the test's directory: " << m_dir << "\n";
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  std::filesystem::path m_dir;

private:
  std::filesystem::path m_old;
};

} // namespace dsm::testing
