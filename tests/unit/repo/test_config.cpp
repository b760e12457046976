#include "repo/config.hpp"
#include "dsm/error.hpp"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

using dsm::Config;
using dsm::Error;

namespace {

std::string error_of(const std::string& text) {
  try {
    Config::parse(text, ".dsm/config.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(CoreConfig, DefaultsRoundTrip) {
  Config c;
  Config back = Config::parse(c.serialize(), "x");
  EXPECT_EQ(back.data_dir, "data");
  EXPECT_EQ(back.extensions, (std::vector<std::string>{".npy", ".npz"}));
  EXPECT_EQ(back.naming, "{name}_{date}_{seq}");
  EXPECT_EQ(back.max_git_file_size, 10u << 20);
  EXPECT_EQ(back.serialize(), c.serialize());
}

TEST(CoreConfig, UnknownKeyNamesFileAndLine) {
  EXPECT_EQ(error_of("version: 1\ndata_dir: data\nbogus: 3\n"), "'.dsm/config.yaml':3: unknown key 'bogus'");
}

TEST(CoreConfig, MissingVersionAndNewerVersionRefused) {
  EXPECT_NE(error_of("data_dir: data\n").find("missing 'version'"), std::string::npos);
  EXPECT_NE(error_of("version: 99\n").find("not supported"), std::string::npos);
}

TEST(CoreConfig, DataDirRefusals) {
  for (const char* bad : {"..", "/", "/tmp/x", ".", "./", "a/../..", "../x", ".git", ".dsm/x", ""}) {
    std::string text = std::string("version: 1\ndata_dir: \"") + bad + "\"\n";
    EXPECT_NE(error_of(text), "") << bad;
    EXPECT_NE(error_of(text).find("'.dsm/config.yaml':2:"), std::string::npos) << bad << ": " << error_of(text);
  }
  EXPECT_EQ(error_of("version: 1\ndata_dir: datasets/raw\n"), "");
}

TEST(CoreConfig, RemotesRoundTrip) {
  std::string text = "version: 1\nremotes:\n  origin:\n    url: \"s3://bucket/p\"\n    endpoint: http://127.0.0.1:9000\n"
                     "    region: eu-west-1\n    default: true\n  backup: {url: /mnt/backup}\n";
  Config c = Config::parse(text, "x");
  ASSERT_EQ(c.remotes.size(), 2u);
  EXPECT_EQ(c.remotes[0].name, "backup"); // sorted
  EXPECT_EQ(c.remotes[1].url, "s3://bucket/p");
  EXPECT_EQ(*c.remotes[1].endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(*c.remotes[1].region, "eu-west-1");
  EXPECT_TRUE(c.remotes[1].is_default);
  EXPECT_EQ(c.default_remote()->name, "origin");
  EXPECT_EQ(c.find_remote("backup")->url, "/mnt/backup");
  EXPECT_EQ(c.find_remote("nope"), nullptr);
  Config back = Config::parse(c.serialize(), "x");
  EXPECT_EQ(back.serialize(), c.serialize());
  EXPECT_EQ(back.remotes[1].region, c.remotes[1].region);
}

TEST(CoreConfig, RemoteValidation) {
  EXPECT_NE(error_of("version: 1\nremotes:\n  origin: {endpoint: x}\n").find("has no 'url'"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nremotes:\n  origin: {url: x, colour: red}\n").find("unknown key 'colour'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nremotes:\n  a: {url: x, default: true}\n  b: {url: y, default: true}\n")
              .find("more than one"),
            std::string::npos);
}

TEST(CoreConfig, NamingAndExtensionsValidated) {
  EXPECT_NE(error_of("version: 1\nnaming: \"{name}_{seq}\"\n").find("{date}"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nnaming: \"{name}/{date}_{seq}\"\n"), "");
  EXPECT_NE(error_of("version: 1\nnaming: \"{name}_{date}{seq}\"\n").find("separator"), std::string::npos);
  EXPECT_EQ(error_of("version: 1\nnaming: \"{seq}-{name}.{date}\"\n"), "");
  EXPECT_NE(error_of("version: 1\nextensions: [npy]\n"), "");
  EXPECT_NE(error_of("version: 1\nmax_git_file_size: -3\n"), "");
}

TEST(CoreConfig, HostileStringsRoundTrip) {
  Config c;
  c.data_dir = "da ta/\"quoted\" #x: y";
  c.remotes.push_back({"origin", "s3://b/\n\t\\x", std::nullopt, std::string("r: {x}"), false});
  Config back = Config::parse(c.serialize(), "x");
  EXPECT_EQ(back.data_dir, c.data_dir);
  EXPECT_EQ(back.remotes[0].url, c.remotes[0].url);
  EXPECT_EQ(*back.remotes[0].region, "r: {x}");
}

TEST(CoreConfig, PayloadNames) {
  Config c;
  EXPECT_TRUE(c.is_payload_name("a_20260101_001.npy"));
  EXPECT_TRUE(c.is_payload_name("a.npz"));
  EXPECT_FALSE(c.is_payload_name("a.npy.yaml"));
  EXPECT_FALSE(c.is_payload_name(".npy"));
}
