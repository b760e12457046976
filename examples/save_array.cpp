// A C++ program that saves its result into the dsm repository around a
// directory, then reads it back: the example of docs/api.md, built against
// an installed dsm (find_package) and run by tests/e2e/test_api.py.
//
//   save_array [DIR]    prints the stored payload's path; when the
//                       repository has a default remote, pushes it there
#include <dsm/api.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  try {
    dsm::api::Repo repo = dsm::api::Repo::open(argc > 1 ? argv[1] : ".");

    // 1000 samples of 3 channels, row-major (C order), like a NumPy (1000, 3) array.
    const uint64_t rows = 1000;
    const uint64_t cols = 3;
    std::vector<double> signal(rows * cols);
    for (uint64_t i = 0; i < rows; ++i) {
      for (uint64_t j = 0; j < cols; ++j) {
        signal[i * cols + j] = std::sin(0.01 * static_cast<double>(i)) * static_cast<double>(j + 1);
      }
    }

    dsm::api::SaveOptions options;
    options.meta = {{"units", "volts"}, {"run", "17"}};
    options.message = "saved by examples/save_array.cpp";
    dsm::api::Saved saved = repo.save("example/signal", dsm::api::ArrayRef::of(signal, {rows, cols}), options);
    std::cout << saved.path.string() << "\n";

    // Read it back: header facts, metadata and data.
    std::string target = saved.name + "@" + std::to_string(saved.version);
    dsm::api::StoredArray stored = repo.describe(target);
    std::vector<std::byte> data = repo.read(target);
    if (stored.shape != std::vector<uint64_t>{rows, cols} || stored.order != dsm::api::Order::c ||
        data.size() != signal.size() * sizeof(double) ||
        std::memcmp(data.data(), signal.data(), data.size()) != 0) {
      std::cerr << "save_array: the stored array does not read back the same\n";
      return 1;
    }

    // Share it, like `dsm push NAME@VERSION` (content-addressed, verified as
    // it is sent). A repository without a remote keeps it local.
    if (std::getenv("SAVE_ARRAY_PUSH") != nullptr) {
      dsm::api::TransferOptions push;
      push.targets = {target};
      dsm::api::Transferred t = repo.push(push);
      std::cerr << "pushed " << t.payloads << " payload(s) to " << t.store << "\n";
    }
    return 0;
  } catch (const dsm::Error& e) {
    std::cerr << "save_array: " << e.what() << "\n";
    return e.exit_code();
  }
}
