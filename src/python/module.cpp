// dsm._dsm: the CPython extension under the `dsm` package (python/dsm/).
// A thin layer over the C++ API (include/dsm/api.hpp): each method converts
// its arguments, releases the GIL, calls one API function and converts the
// result. Python-only concerns (dtype strings, nested structures, pickles,
// reprs) live in python/dsm/*.py. docs/python.md is the user's guide.
#include "dsm/api.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <mutex>
#include <optional>

namespace py = pybind11;
using namespace dsm::api;

namespace {

// dsm.Error and dsm.IntegrityError, defined in python/dsm/_errors.py so
// that Python code raises the same classes. Kept for the process's life.
py::handle g_error;
py::handle g_integrity_error;

void set_python_error(py::handle type, const dsm::Error& e) {
  py::object exc = py::reinterpret_borrow<py::object>(type)(e.what(), py::arg("exit_code") = e.exit_code());
  PyErr_SetObject(type.ptr(), exc.ptr());
}

void translate(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const IntegrityError& e) {
    py::object exc = py::reinterpret_borrow<py::object>(g_integrity_error)(
      e.what(), py::arg("exit_code") = e.exit_code(), py::arg("path") = e.path().string(),
      py::arg("expected_sha256") = e.expected_sha256(), py::arg("actual_sha256") = e.actual_sha256());
    PyErr_SetObject(g_integrity_error.ptr(), exc.ptr());
  } catch (const dsm::Error& e) {
    if (e.exit_code() == dsm::k_exit_interrupted) {
      // InterruptScope handed the signal back to Python's handler: run it
      // (KeyboardInterrupt, or whatever the program installed).
      if (PyErr_CheckSignals() != 0) {
        return;
      }
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      return;
    }
    set_python_error(g_error, e);
  }
}

// Runs `f` without the GIL; with `catch_sigint` (the caller is the main
// thread), Ctrl-C stops it at its next safe point instead of waiting.
template <typename F>
auto unlocked(bool catch_sigint, F&& f) {
  std::optional<InterruptScope> scope;
  if (catch_sigint) {
    scope.emplace();
  }
  py::gil_scoped_release release;
  return f();
}

SaveOptions save_options(const std::vector<std::pair<std::string, std::string>>& meta,
                         const std::optional<std::string>& message, std::optional<int> compress,
                         std::optional<uint64_t> chunk_bytes, bool allow_pickle) {
  SaveOptions o;
  o.meta = meta;
  o.message = message;
  o.compress = compress;
  o.chunk_bytes = chunk_bytes;
  o.allow_pickle = allow_pickle;
  return o;
}

py::tuple saved_tuple(const Saved& s) {
  return py::make_tuple(s.name, s.version, s.path.string(), s.sha256);
}

py::dict stored_dict(const StoredArray& a) {
  py::dict d;
  d["name"] = a.name;
  d["version"] = a.version;
  d["path"] = a.path.string();
  d["format"] = a.format;
  d["single_array"] = a.single_array;
  d["descr"] = a.descr;
  d["shape"] = py::tuple(py::cast(a.shape));
  d["fortran_order"] = a.order == Order::fortran;
  d["data_bytes"] = a.data_bytes;
  d["sidecar_json"] = a.sidecar_json;
  return d;
}

// A contiguous block of memory Python lends us: an ndarray, bytes,
// bytearray or memoryview. Kept alive (and, for an ndarray, not resized)
// by the caller's reference while the GIL is released.
std::span<const std::byte> bytes_of(const py::buffer& b) {
  py::buffer_info info = b.request();
  if (info.ndim > 1 || (info.ndim == 1 && info.strides[0] != info.itemsize)) {
    throw dsm::Error("a contiguous one-dimensional buffer is needed");
  }
  return {static_cast<const std::byte*>(info.ptr), static_cast<size_t>(info.size * info.itemsize)};
}

// A borrowed view of an ndarray for the C++ API; the caller keeps it alive.
ArrayRef array_ref(const std::string& name, const py::array& array, const std::string& descr, bool fortran) {
  int need = fortran ? py::array::f_style : py::array::c_style;
  if ((array.flags() & need) == 0) {
    throw dsm::Error(std::string("cannot save ") + dsm::quote(name) + ": the array is not " +
                     (fortran ? "Fortran" : "C") + "-contiguous");
  }
  ArrayRef ref;
  ref.data = array.data();
  ref.size_bytes = static_cast<size_t>(array.nbytes());
  ref.descr = descr;
  for (py::ssize_t i = 0; i < array.ndim(); ++i) {
    ref.shape.push_back(static_cast<uint64_t>(array.shape(i)));
  }
  ref.order = fortran ? Order::fortran : Order::c;
  return ref;
}

class PyRepo {
public:
  explicit PyRepo(const std::string& path) : m_repo(unlocked(false, [&] { return Repo::open(path); })) {}

  std::string root() const { return m_repo.root().string(); }

  py::tuple save_array(const std::string& name, const py::array& array, const std::string& descr, bool fortran,
                       const std::vector<std::pair<std::string, std::string>>& meta,
                       const std::optional<std::string>& message, std::optional<int> compress,
                       std::optional<uint64_t> chunk_bytes, bool catch_sigint) {
    ArrayRef ref = array_ref(name, array, descr, fortran);
    SaveOptions o = save_options(meta, message, compress, chunk_bytes, false);
    Saved s = unlocked(catch_sigint, [&] {
      std::lock_guard<std::mutex> lock(m_save_mutex);
      return m_repo.save(name, ref, o);
    });
    return saved_tuple(s);
  }

  py::tuple save_file(const std::string& name, const py::buffer& file,
                      const std::vector<std::pair<std::string, std::string>>& meta,
                      const std::optional<std::string>& message, std::optional<int> compress,
                      std::optional<uint64_t> chunk_bytes, bool allow_pickle, bool catch_sigint) {
    std::span<const std::byte> bytes = bytes_of(file);
    SaveOptions o = save_options(meta, message, compress, chunk_bytes, allow_pickle);
    Saved s = unlocked(catch_sigint, [&] {
      std::lock_guard<std::mutex> lock(m_save_mutex);
      return m_repo.save_file(name, bytes, o);
    });
    return saved_tuple(s);
  }

  Batch batch() { return m_repo.batch(); }
  std::mutex& save_mutex() { return m_save_mutex; }

  py::dict describe(const std::string& target) const {
    StoredArray a = unlocked(false, [&] { return m_repo.describe(target); });
    return stored_dict(a);
  }

  void read_into(const std::string& target, py::array& out, bool catch_sigint) const {
    if (!out.writeable()) {
      throw dsm::Error("cannot read " + dsm::quote(target) + " into a read-only array");
    }
    std::span<std::byte> buffer(static_cast<std::byte*>(out.mutable_data()), static_cast<size_t>(out.nbytes()));
    unlocked(catch_sigint, [&] {
      m_repo.read(target, buffer);
      return 0;
    });
  }

  py::bytes read_stored(const std::string& target, bool catch_sigint) const {
    std::vector<std::byte> bytes = unlocked(catch_sigint, [&] { return m_repo.read_stored(target); });
    return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  void check(const std::string& target, bool catch_sigint) const {
    unlocked(catch_sigint, [&] {
      m_repo.check(target);
      return 0;
    });
  }

  py::list versions(const std::string& name) const {
    std::vector<StoredArray> all = unlocked(false, [&] { return m_repo.versions(name); });
    py::list out;
    for (const StoredArray& a : all) {
      out.append(stored_dict(a));
    }
    return out;
  }

  std::vector<std::string> datasets() const {
    return unlocked(false, [&] { return m_repo.datasets(); });
  }

  std::string diff(const std::string& a, const std::string& b, double rtol, double atol, bool equal_nan,
                   bool catch_sigint) const {
    return unlocked(catch_sigint, [&] { return m_repo.diff_json(a, b, rtol, atol, equal_nan); });
  }

  py::tuple verify(bool fast, bool catch_sigint) const {
    VerifyResult r = unlocked(catch_sigint, [&] { return m_repo.verify(fast); });
    py::list problems;
    for (const auto& [path, problem] : r.problems) {
      problems.append(py::make_tuple(path.string(), problem));
    }
    return py::make_tuple(r.ok, problems, r.checked);
  }

private:
  Repo m_repo;
  // A save asks git (through libgit2, whose repository handle is not
  // thread-safe) for the author and HEAD: saves through one Repo object
  // take turns; loads run in parallel. A Repo per thread saves in parallel.
  std::mutex m_save_mutex;
};


// dsm.Batch's native half: the same save_array/save_file as PyRepo (so the
// Python code that turns data into arrays or files serves both), writing
// each save at once and storing them all at commit().
class PyBatch {
public:
  explicit PyBatch(PyRepo& repo) : m_repo(repo), m_batch(repo.batch()) {}

  void save_array(const std::string& name, const py::array& array, const std::string& descr, bool fortran,
                  const std::vector<std::pair<std::string, std::string>>& meta,
                  const std::optional<std::string>& message, std::optional<int> compress,
                  std::optional<uint64_t> chunk_bytes, bool catch_sigint) {
    ArrayRef ref = array_ref(name, array, descr, fortran);
    SaveOptions o = save_options(meta, message, compress, chunk_bytes, false);
    unlocked(catch_sigint, [&] {
      m_batch.save(name, ref, o);
      return 0;
    });
  }

  void save_file(const std::string& name, const py::buffer& file,
                 const std::vector<std::pair<std::string, std::string>>& meta,
                 const std::optional<std::string>& message, std::optional<int> compress,
                 std::optional<uint64_t> chunk_bytes, bool allow_pickle, bool catch_sigint) {
    std::span<const std::byte> bytes = bytes_of(file);
    SaveOptions o = save_options(meta, message, compress, chunk_bytes, allow_pickle);
    unlocked(catch_sigint, [&] {
      m_batch.save_file(name, bytes, o);
      return 0;
    });
  }

  size_t size() const { return m_batch.size(); }

  py::list commit(bool catch_sigint) {
    std::vector<Saved> saved = unlocked(catch_sigint, [&] {
      std::lock_guard<std::mutex> lock(m_repo.save_mutex());
      return m_batch.commit();
    });
    py::list out;
    for (const Saved& s : saved) {
      out.append(saved_tuple(s));
    }
    return out;
  }

  // Removes what the batch wrote, at once (not when Python collects it).
  void discard() { m_batch = m_repo.batch(); }

private:
  PyRepo& m_repo;
  Batch m_batch;
};

} // namespace

PYBIND11_MODULE(_dsm, m) {
  m.doc() = "dsm's C++ API for the dsm package (use `import dsm`, not this module)";
  py::module_ errors = py::module_::import("dsm._errors");
  g_error = py::object(errors.attr("Error")).release();
  g_integrity_error = py::object(errors.attr("IntegrityError")).release();
  py::register_exception_translator(translate);

  py::class_<PyRepo>(m, "Repo")
    .def(py::init<const std::string&>(), py::arg("path"))
    .def_property_readonly("root", &PyRepo::root)
    .def("save_array", &PyRepo::save_array, py::arg("name"), py::arg("array"), py::arg("descr"), py::arg("fortran"),
         py::arg("meta"), py::arg("message"), py::arg("compress"), py::arg("chunk_bytes"), py::arg("catch_sigint"))
    .def("save_file", &PyRepo::save_file, py::arg("name"), py::arg("file"), py::arg("meta"), py::arg("message"),
         py::arg("compress"), py::arg("chunk_bytes"), py::arg("allow_pickle"), py::arg("catch_sigint"))
    .def("describe", &PyRepo::describe, py::arg("target"))
    .def("read_into", &PyRepo::read_into, py::arg("target"), py::arg("out"), py::arg("catch_sigint"))
    .def("read_stored", &PyRepo::read_stored, py::arg("target"), py::arg("catch_sigint"))
    .def("check", &PyRepo::check, py::arg("target"), py::arg("catch_sigint"))
    .def("versions", &PyRepo::versions, py::arg("name"))
    .def("datasets", &PyRepo::datasets)
    .def("verify", &PyRepo::verify, py::arg("fast"), py::arg("catch_sigint"))
    .def("diff", &PyRepo::diff, py::arg("a"), py::arg("b"), py::arg("rtol"), py::arg("atol"), py::arg("equal_nan"),
         py::arg("catch_sigint"))
    .def("batch", [](PyRepo& r) { return std::make_unique<PyBatch>(r); }, py::keep_alive<0, 1>());
  py::class_<PyBatch>(m, "Batch")
    .def("save_array", &PyBatch::save_array, py::arg("name"), py::arg("array"), py::arg("descr"),
         py::arg("fortran"), py::arg("meta"), py::arg("message"), py::arg("compress"), py::arg("chunk_bytes"),
         py::arg("catch_sigint"))
    .def("save_file", &PyBatch::save_file, py::arg("name"), py::arg("file"), py::arg("meta"), py::arg("message"),
         py::arg("compress"), py::arg("chunk_bytes"), py::arg("allow_pickle"), py::arg("catch_sigint"))
    .def("__len__", &PyBatch::size)
    .def("commit", &PyBatch::commit, py::arg("catch_sigint"))
    .def("discard", &PyBatch::discard);
  m.def("parse_size", [](const std::string& text) { return parse_size(text); }, py::arg("text"));
}
