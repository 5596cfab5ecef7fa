#!/usr/bin/env python3
"""deploy/kubernetes/prepare-indexed-job.yaml: the Indexed Job's shape, and its command run.

- The Job is Indexed with completions == parallelism == IPINSIGHTS_SHARD_COUNT, its container
  passes `prepare ...` as args to the image's entry point, restartPolicy Never; the CronJob
  runs `pipeline --config ...`; both run as a non-root uid (the image's layout allows it).
- Its args are run locally, once per index with JOB_COMPLETION_INDEX set as Kubernetes sets
  it (and the Job's env), with the manifest's s3:// locations mapped to local folders holding
  simulated CloudTrail logs for the manifest's dates: every part-I-of-N and its summary
  appear, and the parts in order equal the single-machine output. This needs prepare's shard
  support (feat/shard); a build without it skips that step with a message.

Needs PyYAML (Debian: python3-yaml).
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import harness

ARGS = None


class KubernetesManifestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import yaml
        except ImportError:
            raise unittest.SkipTest("PyYAML is missing (apt-get install python3-yaml)")
        path = os.path.join(ARGS.source_dir, "deploy/kubernetes/prepare-indexed-job.yaml")
        with open(path) as f:
            cls.docs = [d for d in yaml.safe_load_all(f) if d]
        cls.job = next(d for d in cls.docs if d["kind"] == "Job")
        cls.container = cls.job["spec"]["template"]["spec"]["containers"][0]
        cls.env = {e["name"]: e["value"] for e in cls.container.get("env", [])}

    def test_indexed_job_shape(self):
        self.assertEqual(self.job["apiVersion"], "batch/v1")
        spec = self.job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        shards = int(self.env["IPINSIGHTS_SHARD_COUNT"])
        self.assertGreater(shards, 1)
        self.assertEqual(spec["completions"], shards)
        self.assertEqual(spec["parallelism"], shards)
        pod = spec["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertNotIn("command", self.container, "args only: the entry point is the binary")
        args = self.container["args"]
        self.assertEqual(args[0], "prepare")
        self.assertIn(args[1], ("cloudtrail", "waf"))
        for flag in ("--input", "--from", "--to", "--output"):
            self.assertIn(flag, args)
        self.assertFalse([n for n in self.env if n.startswith("AWS_BATCH")])

    def test_pipeline_cronjob(self):
        cron = next(d for d in self.docs if d["kind"] == "CronJob")
        self.assertEqual(cron["spec"]["concurrencyPolicy"], "Forbid")
        pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        args = pod["containers"][0]["args"]
        self.assertEqual(args[:2], ["pipeline", "--config"])
        self.assertTrue(args[2].startswith("s3://"))

    def test_indexed_job_runs_locally(self):
        r = subprocess.run([ARGS.binary, "prepare", "--help"], capture_output=True, text=True)
        if "--shard" not in r.stdout:
            self.skipTest("this build's prepare has no --shard (feat/shard not merged): the "
                          "Indexed Job's pods cannot run yet")
        tmp = tempfile.mkdtemp(prefix="ipinsights-k8s-")
        self.addCleanup(shutil.rmtree, tmp, True)
        args = list(self.container["args"])
        value = lambda flag: args[args.index(flag) + 1]
        start = datetime.date.fromisoformat(value("--from"))
        days = (datetime.date.fromisoformat(value("--to")) - start).days + 1
        logs = os.path.join(tmp, "logs")
        subprocess.run([ARGS.binary, "simulate", args[1], "--out", logs, "--users", "60",
                        "--days", str(days), "--start", start.isoformat(), "--attacks", "20",
                        "--quiet"], check=True)
        # s3://BUCKET/KEY -> TMP/s3/BUCKET/KEY; the input bucket's prefix is the simulated logs.
        input_uri = value("--input")
        local = lambda uri: os.path.join(tmp, "s3", uri[len("s3://"):])
        os.makedirs(os.path.dirname(local(input_uri).rstrip("/")), exist_ok=True)
        os.symlink(os.path.join(logs, os.path.basename(input_uri.rstrip("/"))),
                   local(input_uri).rstrip("/"))
        argv = [local(a) if a.startswith("s3://") else a for a in args]
        shards = int(self.env["IPINSIGHTS_SHARD_COUNT"])
        procs = []
        for i in range(shards):
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp}
            env.update(self.env)
            env["JOB_COMPLETION_INDEX"] = str(i)  # what Kubernetes sets in pod i
            procs.append(subprocess.Popen([ARGS.binary] + argv + ["--quiet"], env=env,
                                          stderr=subprocess.PIPE, text=True))
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=600)
            self.assertEqual(p.returncode, 0, f"index {i}: {err[-3000:]}")
        out = local(value("--output"))
        parts = [os.path.join(out, f"part-{i}-of-{shards}") for i in range(shards)]
        for part in parts:
            self.assertTrue(os.path.isfile(part), part)
            self.assertTrue(os.path.isfile(part + ".summary.json"), part)
        single = os.path.join(tmp, "single.csv")
        single_argv = list(argv)
        single_argv[single_argv.index("--output") + 1] = single
        single_argv[single_argv.index("--validation-output") + 1] = os.path.join(tmp, "sv.csv")
        subprocess.run([ARGS.binary] + single_argv + ["--quiet"], check=True)
        joined = b""
        for part in parts:
            with open(part, "rb") as f:
                joined += f.read()
        with open(single, "rb") as f:
            self.assertEqual(joined, f.read())


def main():
    global ARGS
    ARGS, rest = harness.parse_args()
    harness.run(rest)


if __name__ == "__main__":
    main()
