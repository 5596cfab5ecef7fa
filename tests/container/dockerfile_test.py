#!/usr/bin/env python3
"""The Dockerfile cannot miss a library, and its build stage installs what the build needs.

- The runtime stage's apt list (between `runtime-packages:begin` and `:end`) names the Debian
  package of every shared library the built binary loads: ldd -> dpkg -S -> package.
- The builder stage's apt list names only packages scripts/install-deps.sh also installs
  (the list CI builds with), so the two cannot drift apart silently.
- The image's contract: ENTRYPOINT is the binary (so `docker run IMAGE train|serve|...` runs
  the subcommand), EXPOSE 8080, the binary at /usr/local/bin/ipinsights, tests and benchmarks
  off in the image build, and .dockerignore keeps build outputs and .git out of the context.
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

import harness

ARGS = None


def apt_packages(text):
    """Package names of every `apt-get install` in a shell text (continuations joined)."""
    joined = text.replace("\\\n", " ")
    names = []
    for m in re.finditer(r"apt-get install([^&\n]*)", joined):
        for word in m.group(1).split():
            if not word.startswith("-"):
                names.append(word)
    return names


def owners(paths):
    """{path: Debian package} for library paths, with one dpkg -S for all of them (merged-/usr:
    a path dpkg does not know is retried as its /usr or non-/usr twin and its real path)."""
    def twins(path):
        real = os.path.realpath(path)
        out = [path, real]
        for p in (path, real):
            out.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
        return out

    candidates = {path: twins(path) for path in paths}
    everything = sorted({c for cs in candidates.values() for c in cs})
    r = subprocess.run(["dpkg", "-S"] + everything, capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        package, _, owned = line.partition(": ")
        for p in owned.split(", "):
            found[p.strip()] = package.split(",")[0].strip()
    return {path: next((found[c] for c in cs if c in found), None)
            for path, cs in candidates.items()}


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ARGS.source_dir, "Dockerfile")) as f:
            cls.dockerfile = f.read()
        stages = re.split(r"^FROM ", cls.dockerfile, flags=re.M)
        cls.builder = next(s for s in stages if s.startswith("debian:12 AS builder"))
        cls.runtime = stages[-1]

    def test_runtime_packages_cover_every_shared_library(self):
        if shutil.which("dpkg") is None or shutil.which("ldd") is None:
            self.skipTest("dpkg or ldd is missing (not a Debian machine)")
        m = re.search(r"runtime-packages:begin(.*?)runtime-packages:end", self.runtime, re.S)
        self.assertIsNotNone(m, "the runtime stage has no runtime-packages block")
        listed = set(apt_packages(m.group(1)))
        self.assertIn("ca-certificates", listed)
        ldd = subprocess.run(["ldd", ARGS.binary], capture_output=True, text=True, check=True)
        self.assertNotIn("not found", ldd.stdout)
        paths = sorted(set(re.findall(r"(/\S+) \(0x", ldd.stdout)))
        self.assertGreater(len(paths), 3)
        missing = {}
        for path, package in owners(paths).items():
            self.assertIsNotNone(package, f"no Debian package owns {path}")
            package = package.split(":")[0]  # libc6:amd64 -> libc6
            if package not in listed:
                missing[path] = package
        self.assertEqual(missing, {}, "add these packages to the Dockerfile's runtime stage")

    def test_builder_packages_are_what_ci_builds_with(self):
        with open(os.path.join(ARGS.source_dir, "scripts/install-deps.sh")) as f:
            deps = f.read()
        m = re.search(r"packages=\((.*?)\n\)", deps, re.S)
        ci = set()
        for line in m.group(1).splitlines():
            ci.update(line.split("#", 1)[0].split())
        builder = apt_packages(self.builder)
        self.assertGreater(len(builder), 5)
        self.assertEqual(sorted(set(builder) - ci), [], "builder packages unknown to install-deps")

    def test_image_contract(self):
        self.assertRegex(self.runtime, r"^debian:12-slim", "runtime stage is debian:12-slim")
        self.assertIn('ENTRYPOINT ["/usr/local/bin/ipinsights"]', self.runtime)
        self.assertRegex(self.runtime, r"(?m)^EXPOSE 8080$")
        self.assertIn("/usr/local/bin/ipinsights", self.runtime)
        self.assertIn("-DIPINSIGHTS_BUILD_TESTS=OFF", self.builder)
        self.assertIn("--target ipinsights", self.builder)
        with open(os.path.join(ARGS.source_dir, ".dockerignore")) as f:
            ignored = f.read().split()
        for entry in (".git", "build"):
            self.assertIn(entry, ignored)


def main():
    global ARGS
    ARGS, rest = harness.parse_args()
    harness.run(rest)


if __name__ == "__main__":
    main()
