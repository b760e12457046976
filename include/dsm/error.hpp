// dsm::Error and the exit-code table. Core code throws; src/main.cpp has the
// only catch, prints "dsm: error: <message>" and exits with the code.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dsm {

// Exit codes follow diff/grep/sha256sum -c. Documented in `dsm --help` and
// docs/errors.md; keep the three in step.
enum ExitCode : int {
  k_exit_ok = 0,           // all good
  k_exit_problems = 1,     // problems found: verification failed, hook refused
  k_exit_error = 2,        // error: usage, not a repository, invalid input, I/O
  k_exit_interrupted = 130 // SIGINT
};

class Error : public std::runtime_error {
public:
  explicit Error(const std::string& message, int exit_code = k_exit_error)
    : std::runtime_error(message), m_exit_code(exit_code) {}
  // An error that ends a run which found several problems (push, pull):
  // main prints each problem as its own "dsm: error: " line, then message.
  Error(const std::string& message, int exit_code, std::vector<std::string> problems)
    : std::runtime_error(message), m_exit_code(exit_code), m_problems(std::move(problems)) {}
  int exit_code() const noexcept { return m_exit_code; }
  const std::vector<std::string>& problems() const noexcept { return m_problems; }

private:
  int m_exit_code;
  std::vector<std::string> m_problems;
};

// Quote a path for messages: 'path'. Keeps messages uniform.
std::string quote(const std::string& s);

} // namespace dsm
