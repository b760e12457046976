// repo/lock: the repository lock (O_EXCL file, stale takeover, timeout
// naming the holder) and the activity lock (flock shared by add, exclusive
// for repair).
#include "temp_dir.hpp"

#include "dsm/error.hpp"
#include "ops/init.hpp"
#include "repo/lock.hpp"
#include "repo/repository.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace dsm;
using namespace std::chrono_literals;

namespace {

class LockTest : public dsm::testing::TempDirTest {};

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_F(LockTest, HeldLockNamesItsHolderAndIsRemovedOnRelease) {
  fs::path path = m_dir / "lock";
  {
    RepoLock lock(path, 1s);
    std::string content = read_all(path);
    EXPECT_EQ(content.rfind(std::to_string(::getpid()) + " ", 0), 0u) << content;
    try {
      RepoLock second(path, 100ms);
      FAIL() << "a held lock was taken twice";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(std::to_string(::getpid())), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(path));
  RepoLock again(path, 100ms); // free again
}

TEST_F(LockTest, AStaleLockOfADeadProcessIsTakenOver) {
  fs::path path = m_dir / "lock";
  // pid 2^22 + 1 is above Linux's pid_max limit: never a live process.
  std::ofstream(path) << "4194305 " << host_name() << " 1000000000\n";
  RepoLock lock(path, 1s);
  EXPECT_EQ(read_all(path).rfind(std::to_string(::getpid()) + " ", 0), 0u);
}

TEST_F(LockTest, ActivityLockIsSharedByAddsAndExclusiveForRepair) {
  ASSERT_EQ(std::system("git init -q ."), 0);
  init_repository(m_dir, InitOptions{});
  std::unique_ptr<Repository> repo = Repository::open(m_dir);
  {
    ActivityLock a(*repo, ActivityLock::Mode::shared, 100ms);
    ActivityLock b(*repo, ActivityLock::Mode::shared, 100ms); // two adds at once
    EXPECT_THROW(ActivityLock(*repo, ActivityLock::Mode::exclusive, 100ms), Error);
  }
  ActivityLock x(*repo, ActivityLock::Mode::exclusive, 100ms);
  try {
    ActivityLock s(*repo, ActivityLock::Mode::shared, 100ms);
    FAIL() << "add ran during repair";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("waiting for 'dsm repair' to finish"), std::string::npos) << e.what();
  }
}
