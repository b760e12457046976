"""-m KEY=VALUE is written so that YAML 1.1 readers (PyYAML) and YAML 1.2
readers (yaml-cpp, dsm's own JSON) read the same value (issue 18: `-m
lr=1e-3 -m flag=yes` was read as 0.001 and "yes" by dsm, '1e-3' and True by
PyYAML)."""
import datetime
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import InitializedRepoTestCase, main, np  # noqa: E402

AWKWARD = ["yes", "no", "on", "off", "y", "n", "Yes", "OFF", "~", "null", "true", "False", "1e-3", "1E5", "0777",
           "0x1F", "1_000", "2023-01-15", "2023-01-15T10:00:00Z", ".inf", "-.inf", ".nan", '"007"', "007", "12",
           "-3", "0.5", "1.0e+20", "12:30", "99999999999999999999", "plain words", "[1, yes, 1e-3]",
           "{a: on, b: 0777}", ""]


class MetaYamlTest(InitializedRepoTestCase):

    def test_pyyaml_reads_what_dsm_reads(self):
        src = self.save(os.path.join(self.tmp, "a.npy"), np.arange(3))
        args = []
        for i, v in enumerate(AWKWARD):
            args += ["-m", f"k{i:02d}={v}"]
        self.dsm("add", src, "--name", "m", *args, cwd=self.repo, expect=0)
        path = self.dsm("path", "m", cwd=self.repo, expect=0).out.strip()
        with open(path + ".yaml") as f:
            text = f.read()
        pyyaml = yaml.safe_load(text)["meta"]
        dsm = json.loads(self.dsm("log", "m", "--json", cwd=self.repo, expect=0).out)[0]["meta"]
        self.assertEqual(len(dsm), len(AWKWARD))
        for i, v in enumerate(AWKWARD):
            key = f"k{i:02d}"
            a, b = dsm[key], pyyaml[key]
            self.assertNotIsInstance(b, (datetime.date, datetime.datetime), (v, text))
            if isinstance(b, float) and b != b:
                self.assertIsNone(a, v)  # NaN: JSON has no NaN
                continue
            self.assertEqual(type(a), type(b), (v, a, b))
            self.assertEqual(a, b, v)
        # What people expect of the common cases.
        self.assertEqual(dsm["k00"], "yes")
        self.assertEqual(dsm["k12"], 0.001)
        self.assertEqual(dsm["k22"], "007")
        self.assertEqual(dsm["k26"], 0.5)


if __name__ == "__main__":
    main()
