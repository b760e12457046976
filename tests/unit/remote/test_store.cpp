#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "remote/credentials.hpp"
#include "remote/s3_detail.hpp"
#include "remote/store.hpp"
#include "remote/transfer.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace dsm;
using namespace dsm::remote;

namespace {

// put() takes an open file (the caller opens it below the data dir).
void put_file(ObjectStore& store, const std::string& sha, const fs::path& p, uint64_t size, const ProgressFn& progress) {
  util::Fd fd = util::open_read(p);
  store.put(sha, fd.get(), p, size, progress);
}

class RemoteStoreTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    m_store_root = m_dir / "store";
    fs::create_directories(m_store_root);
  }
  // Writes a file and returns its SHA-256.
  std::string make_file(const fs::path& p, const std::string& content) {
    util::write_file_atomic(p, content);
    util::Sha256 h;
    h.update(content.data(), content.size());
    return h.hex_digest();
  }
  size_t files_under(const fs::path& dir) {
    size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir)) {
      n += e.is_regular_file() ? 1 : 0;
    }
    return n;
  }
  fs::path m_store_root;
};

} // namespace

TEST(RemoteUrl, ParsesDirectoriesAndBuckets) {
  ParsedUrl d = parse_remote_url("/mnt/team/store/");
  EXPECT_EQ(d.kind, StoreKind::directory);
  EXPECT_EQ(d.directory, fs::path("/mnt/team/store/"));
  ParsedUrl f = parse_remote_url("file:///srv/data");
  EXPECT_EQ(f.kind, StoreKind::directory);
  EXPECT_EQ(f.directory, fs::path("/srv/data"));
  ParsedUrl s = parse_remote_url("s3://my-bucket/team/x/");
  EXPECT_EQ(s.kind, StoreKind::s3);
  EXPECT_EQ(s.bucket, "my-bucket");
  EXPECT_EQ(s.prefix, "team/x/");
  ParsedUrl b = parse_remote_url("s3://my-bucket");
  EXPECT_EQ(b.prefix, "");
}

TEST(RemoteUrl, RefusesBadUrls) {
  EXPECT_THROW(parse_remote_url("relative/dir"), Error);
  EXPECT_THROW(parse_remote_url("file://relative"), Error);
  EXPECT_THROW(parse_remote_url("http://example.com/x"), Error);
  EXPECT_THROW(parse_remote_url("s3://ab"), Error);
  EXPECT_THROW(parse_remote_url("s3://bad bucket/x"), Error);
  EXPECT_THROW(parse_remote_url("s3://bucket//x"), Error);
}

TEST(RemoteStore, ObjectKeyFansOutByTwoHexDigits) {
  std::string sha(64, 'a');
  sha[0] = '1';
  sha[1] = 'f';
  EXPECT_EQ(object_key(sha), "objects/sha256/1f/" + sha.substr(2));
}

TEST_F(RemoteStoreTest, DirectoryStoreRoundTrip) {
  auto store = open_dir_store("team", m_store_root);
  store->check_access();
  std::string sha = make_file(m_dir / "a.npy", "hello payload");
  EXPECT_FALSE(store->stat(sha).has_value());
  int64_t moved = 0;
  put_file(*store, sha, m_dir / "a.npy", 13, [&](int64_t d) { moved += d; });
  EXPECT_EQ(moved, 13);
  EXPECT_EQ(store->stat(sha), 13u);
  fs::path obj = m_store_root / object_key(sha);
  struct stat st {};
  ASSERT_EQ(::stat(obj.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u) << "objects are read-only";
  // A second put of the same content is harmless.
  put_file(*store, sha, m_dir / "a.npy", 13, nullptr);
  auto all = store->list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.at(sha), 13u);

  {
    util::AtomicFile out(m_dir / "b.npy", 0444);
    store->get(sha, out, nullptr);
    out.commit();
  }
  EXPECT_EQ(util::read_file(m_dir / "b.npy"), "hello payload");
}

TEST_F(RemoteStoreTest, DirectoryStoreRefusesCorruptLocalPayload) {
  auto store = open_dir_store("team", m_store_root);
  std::string sha = make_file(m_dir / "a.npy", "original");
  util::write_file_atomic(m_dir / "a.npy", "0riginal"); // same size, one byte changed
  try {
    put_file(*store, sha, m_dir / "a.npy", 8, nullptr);
    FAIL() << "a corrupt payload was uploaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.npy"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(store->stat(sha).has_value());
  EXPECT_EQ(files_under(m_store_root), 0u) << "no temp file left behind";
}

TEST_F(RemoteStoreTest, DirectoryStoreRefusesCorruptObject) {
  auto store = open_dir_store("team", m_store_root);
  std::string sha = make_file(m_dir / "a.npy", "good bytes");
  put_file(*store, sha, m_dir / "a.npy", 10, nullptr);
  fs::path obj = m_store_root / object_key(sha);
  fs::permissions(obj, fs::perms::owner_write, fs::perm_options::add);
  util::write_file_atomic(obj, "evil bytes");
  {
    util::AtomicFile out(m_dir / "pulled.npy", 0444);
    try {
      store->get(sha, out, nullptr);
      FAIL() << "a corrupt object was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), k_exit_problems);
      EXPECT_NE(std::string(e.what()).find(object_key(sha)), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(m_dir / "pulled.npy"));
  size_t temps = 0;
  for (auto& e : fs::directory_iterator(m_dir)) {
    temps += e.path().filename().string().rfind(".dsm-tmp-", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(temps, 0u);
}

TEST_F(RemoteStoreTest, DirectoryStoreMissingObjectIsNamed) {
  auto store = open_dir_store("team", m_store_root);
  std::string sha(64, 'c');
  util::AtomicFile out(m_dir / "x.npy");
  try {
    store->get(sha, out, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing on remote 'team'"), std::string::npos) << e.what();
  }
}

TEST_F(RemoteStoreTest, DirectoryStoreMissingRootIsAnError) {
  auto store = open_dir_store("team", m_dir / "nope");
  EXPECT_THROW(store->check_access(), Error);
}

TEST(RemoteCredentials, IniValues) {
  std::string text = "[default]\naws_access_key_id = AK\n# comment\naws_secret_access_key=SK \n\n[profile x]\n"
                     "region = eu-west-1\n[other]\naws_access_key_id = OK\n";
  EXPECT_EQ(ini_value(text, "default", "aws_access_key_id"), "AK");
  EXPECT_EQ(ini_value(text, "default", "aws_secret_access_key"), "SK");
  EXPECT_EQ(ini_value(text, "profile x", "region"), "eu-west-1");
  EXPECT_EQ(ini_value(text, "other", "aws_access_key_id"), "OK");
  EXPECT_FALSE(ini_value(text, "other", "region").has_value());
}

TEST(RemoteCredentials, EnvironmentFirstThenProfile) {
  char tmpl[] = "/tmp/dsm-unit-aws-XXXXXX";
  fs::path home = ::mkdtemp(tmpl);
  fs::create_directories(home / ".aws");
  util::write_file_atomic(home / ".aws" / "credentials",
                          "[default]\naws_access_key_id=DK\naws_secret_access_key=DS\n"
                          "[team]\naws_access_key_id=TK\naws_secret_access_key=TS\naws_session_token=TT\n");
  util::write_file_atomic(home / ".aws" / "config", "[profile team]\nregion = eu-north-1\n");
  std::map<std::string, std::string> vars = {{"HOME", home.string()}};
  EnvFn env = [&](const char* n) -> const char* {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  auto c = find_credentials(env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key, "DK");
  vars["AWS_PROFILE"] = "team";
  c = find_credentials(env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key, "TK");
  EXPECT_EQ(c->session_token, "TT");
  EXPECT_EQ(find_region("", env), "eu-north-1");
  EXPECT_EQ(find_region("ap-south-1", env), "ap-south-1");
  vars["AWS_ACCESS_KEY_ID"] = "EK";
  vars["AWS_SECRET_ACCESS_KEY"] = "ES";
  vars["AWS_REGION"] = "us-west-2";
  c = find_credentials(env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key, "EK");
  EXPECT_EQ(c->source, "the environment");
  EXPECT_EQ(find_region("", env), "us-west-2");
  vars.erase("AWS_SECRET_ACCESS_KEY");
  EXPECT_THROW(find_credentials(env), Error);
  vars.erase("AWS_ACCESS_KEY_ID");
  vars["AWS_PROFILE"] = "absent";
  EXPECT_THROW(find_credentials(env), Error);
  vars["HOME"] = (home / "empty").string();
  vars.erase("AWS_PROFILE");
  EXPECT_FALSE(find_credentials(env).has_value());
  fs::remove_all(home);
}

TEST(RemoteS3Detail, PartSizeFitsFiveTebibytesInTenThousandParts) {
  using detail::multipart_part_size;
  constexpr uint64_t k_mib = 1u << 20;
  EXPECT_EQ(multipart_part_size(100 * k_mib), 16 * k_mib);
  uint64_t five_tib = 5ull << 40;
  uint64_t part = multipart_part_size(five_tib);
  EXPECT_GE(part * detail::k_max_parts, five_tib);
  EXPECT_EQ(part % k_mib, 0u);
  EXPECT_LE(part, 5ull << 30) << "S3's largest part is 5 GiB";
  EXPECT_GE(multipart_part_size(detail::k_multipart_threshold + 1), 5 * k_mib);
}

TEST(RemoteS3Detail, EncodingAndXml) {
  using namespace detail;
  EXPECT_EQ(pct_encode("a b/c~d", true), "a%20b/c~d");
  EXPECT_EQ(pct_encode("a b/c", false), "a%20b%2Fc");
  std::string body = "<R><Contents><Key>a&amp;b</Key><Size>3</Size></Contents>"
                     "<Contents><Key>c</Key><Size>4</Size></Contents><IsTruncated>false</IsTruncated></R>";
  auto all = xml_all(body, "Contents");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(xml_first(all[0], "Key"), "a&b");
  EXPECT_EQ(xml_first(all[1], "Size"), "4");
  EXPECT_EQ(xml_first(body, "IsTruncated"), "false");
  EXPECT_EQ(xml_first(body, "Missing"), "");
}

TEST(RemoteTransfer, RecordsEveryProblemAndStopsOnErrors) {
  std::atomic<int> ran{0};
  auto failures = run_parallel(20, 4, [&](size_t i) {
    ++ran;
    if (i % 5 == 0) {
      throw Error("bad object " + std::to_string(i), k_exit_problems);
    }
  });
  EXPECT_EQ(ran.load(), 20);
  ASSERT_EQ(failures.size(), 4u);
  EXPECT_EQ(failures[1].message, "bad object 5");

  std::atomic<int> ran2{0};
  auto fatal = run_parallel(1000, 1, [&](size_t i) {
    ++ran2;
    if (i == 3) {
      throw Error("connection refused");
    }
  });
  EXPECT_EQ(ran2.load(), 4) << "no new work after a store-wide error";
  // The error, then every item never started: none of them counts as done.
  ASSERT_EQ(fatal.size(), 997u);
  EXPECT_EQ(fatal[0].index, 3u);
  EXPECT_EQ(fatal[0].message, "connection refused");
  EXPECT_EQ(fatal[1].index, 4u);
  EXPECT_EQ(fatal[1].message, "not attempted (stopped by the error above)");
  EXPECT_EQ(fatal.back().index, 999u);
  for (const auto& f : fatal) {
    EXPECT_EQ(f.exit_code, k_exit_error);
  }

  // Ctrl-C: the items never started are reported as interrupted too.
  auto stopped = run_parallel(10, 1, [&](size_t i) {
    if (i == 2) {
      throw Error("interrupted", k_exit_interrupted);
    }
  });
  ASSERT_EQ(stopped.size(), 8u);
  for (const auto& f : stopped) {
    EXPECT_EQ(f.message, "interrupted");
    EXPECT_EQ(f.exit_code, k_exit_interrupted);
  }
}
