#!/usr/bin/env python3
"""The container image, built without a daemon and run from its own root filesystem only.

scripts/build-image.sh assembles the OCI image from the built binary; this test unpacks it
with umoci into a fresh runtime bundle and runs the image's entry point (its config's
Entrypoint + the command, its Env and WorkingDir, nothing else from the host's environment)
the way `docker run IMAGE train` / `docker run IMAGE serve` would:

- root filesystem: `unshare --mount --uts --ipc --root=ROOTFS --wd=WORKDIR` (a chroot in
  fresh mount, UTS and IPC namespaces). unshare execs (no fork), so the PID we hold is the
  server's own and SIGTERM goes straight to it. The loader and every library come from the
  image, so a library missing from the image fails the run; the test also checks
  /proc/PID/root is the bundle's rootfs.
- network: a namespace of its own (a holder process created by `unshare --net` brings `lo`
  up; the server and the HTTP client join it with nsenter), so `serve` binds 0.0.0.0:8080 as
  SageMaker expects without colliding with anything on the host.
- as non-root the same runs inside a user namespace (`--map-root-user`), like rootless podman.

SageMaker's contract, end to end, with the image's /opt/ml in the fresh bundle (SM_ROOT
unset: the real default path): simulate + prepare run inside the image write the channels,
hyperparameters.json is SageMaker's JSON object of strings, `train` writes
/opt/ml/model/model.ipinsights and metrics.json, `serve` answers GET /ping and
POST /invocations (text/csv entity,ip rows) and exits 0 on SIGTERM.

Tools: umoci (apt), unshare/nsenter (util-linux). Missing ones or a kernel that refuses the
namespaces make the test skip with the reason.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import harness

ARGS = None

HOLDER = r"""
import fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack('16sH14s', b'lo', 0, b'')
flags = struct.unpack('16sH14s', fcntl.ioctl(s, 0x8913, req))[1]        # SIOCGIFFLAGS
fcntl.ioctl(s, 0x8914, struct.pack('16sH14s', b'lo', flags | 1, b''))     # SIOCSIFFLAGS IFF_UP
print('ready', flush=True)
sys.stdin.read()
"""

CLIENT = r"""
import http.client, json, sys
method, path, body, ctype = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
try:
    c = http.client.HTTPConnection('127.0.0.1', 8080, timeout=10)
    headers = {'Content-Type': ctype, 'Accept': 'application/json'} if body else {}
    c.request(method, path, body=body.encode() if body else None, headers=headers)
    r = c.getresponse()
    print(json.dumps({'status': r.status, 'body': r.read().decode()}))
except OSError as e:
    print(json.dumps({'status': 0, 'body': str(e)}))
"""


def read_image_config(layout, tag):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            break
    else:
        raise AssertionError(f"tag {tag} not in {layout}/index.json")

    def blob(digest):
        algo, hexd = digest.split(":")
        with open(os.path.join(layout, "blobs", algo, hexd)) as f:
            return json.load(f)

    manifest = blob(m["digest"])
    return manifest, blob(manifest["config"]["digest"])


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("umoci", "unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} is missing (apt-get install umoci util-linux)")
        cls.rootless = os.getuid() != 0
        cls.tmp = tempfile.mkdtemp(prefix="ipinsights-image-")
        cls.layout = os.path.join(cls.tmp, "oci")
        subprocess.run(["bash", os.path.join(ARGS.source_dir, "scripts/build-image.sh"),
                        "--binary", ARGS.binary, "--layout", cls.layout, "--tag", "test"],
                       check=True)
        cls.manifest, cls.config = read_image_config(cls.layout, "test")
        cls.bundle = os.path.join(cls.tmp, "bundle")
        unpack = ["umoci", "unpack"] + (["--rootless"] if cls.rootless else [])
        subprocess.run(unpack + ["--image", cls.layout + ":test", cls.bundle], check=True)
        cls.rootfs = os.path.join(cls.bundle, "rootfs")
        user_ns = ["--user", "--map-root-user"] if cls.rootless else []
        # The network namespace holder; the server and the client join it.
        cls.holder = subprocess.Popen(["unshare", "--net"] + user_ns +
                                      [sys.executable, "-c", HOLDER],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        line = cls.holder.stdout.readline()
        if line.strip() != "ready":
            err = cls.holder.stderr.read()
            cls.holder.kill()
            raise unittest.SkipTest(f"cannot create a network namespace here: {err.strip()}")
        cls.nsenter = (["nsenter", f"--target={cls.holder.pid}", "--net"] +
                       (["--user", "--preserve-credentials"] if cls.rootless else []))

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "holder", None):
            cls.holder.stdin.close()
            cls.holder.wait(timeout=10)
        if getattr(cls, "tmp", None):
            subprocess.run(["chmod", "-R", "u+rwX", cls.tmp], check=False)
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- the image as `docker run IMAGE ARGS...` would run it -------------------------------
    def container_argv(self, args, user=None):
        c = self.config["config"]
        workdir = c.get("WorkingDir") or "/"
        as_user = [f"--setuid={user}", f"--setgid={user}"] if user is not None else []
        return (self.nsenter + ["unshare", "--mount", "--uts", "--ipc"] + as_user +
                [f"--root={self.rootfs}", f"--wd={workdir}", "--"] + c["Entrypoint"] +
                list(args))

    def container_env(self, extra=None):
        env = dict(e.split("=", 1) for e in self.config["config"].get("Env", []))
        env.update(extra or {})
        return env  # nothing from the host's environment

    def run_image(self, args, extra_env=None, timeout=600, user=None):
        r = subprocess.run(self.container_argv(args, user), env=self.container_env(extra_env),
                           capture_output=True, text=True, timeout=timeout)
        self.assertEqual(r.returncode, 0, f"{args}: exit {r.returncode}\n{r.stderr[-4000:]}")
        return r

    def http(self, method, path, body="", ctype=""):
        r = subprocess.run(self.nsenter + [sys.executable, "-c", CLIENT, method, path, body, ctype],
                           capture_output=True, text=True, timeout=30, check=True)
        return json.loads(r.stdout)

    # --- the tests -----------------------------------------------------------------------
    def test_1_image_config(self):
        c = self.config["config"]
        self.assertEqual(c["Entrypoint"], ["/usr/local/bin/ipinsights"])
        self.assertIn("8080/tcp", c.get("ExposedPorts", {}))
        self.assertEqual(self.config["os"], "linux")
        self.assertEqual(len(self.manifest["layers"]), 1)
        # Only what the image needs: no shell, no package manager.
        for absent in ("bin/sh", "usr/bin/apt", "usr/bin/dpkg"):
            self.assertFalse(os.path.lexists(os.path.join(self.rootfs, absent)), absent)
        for present in ("usr/local/bin/ipinsights", "etc/ssl/certs/ca-certificates.crt",
                        "etc/passwd", "opt/ml/model", "tmp"):
            self.assertTrue(os.path.lexists(os.path.join(self.rootfs, present)), present)

    def test_1b_skopeo_reads_the_image(self):
        # Optional (skopeo is not in install-deps): a standard OCI tool reads the layout and
        # converts it to what `docker load` takes.
        if shutil.which("skopeo") is None:
            self.skipTest("skopeo is missing (apt-get install skopeo)")
        r = subprocess.run(["skopeo", "inspect", "--config", f"oci:{self.layout}:test"],
                           capture_output=True, text=True, check=True)
        self.assertEqual(json.loads(r.stdout)["config"]["Entrypoint"],
                         ["/usr/local/bin/ipinsights"])
        archive = os.path.join(self.tmp, "docker-archive.tar")
        subprocess.run(["skopeo", "copy", "--quiet", f"oci:{self.layout}:test",
                        f"docker-archive:{archive}:ipinsights:test"], check=True)
        self.assertGreater(os.path.getsize(archive), 1 << 20)

    def test_2_every_subcommand_runs_from_the_image(self):
        r = self.run_image(["--help"])
        for sub in ("simulate", "prepare", "train", "evaluate", "score", "serve", "pipeline"):
            self.assertIn(sub, r.stdout + r.stderr)
        # The process sees only the image: the host's binary path does not exist in there.
        r = subprocess.run(self.container_argv(["prepare", "cloudtrail", "--input",
                                                os.path.abspath(ARGS.binary), "--output", "-"]),
                           env=self.container_env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, "a host path was visible inside the image")
        self.assertIn("no such file", r.stderr)

    def serve_and_stop(self, user=None):
        """Starts `serve` (the image's /opt/ml/model), checks /ping and /invocations, stops it
        with SIGTERM and expects exit 0."""
        with open(os.path.join(self.rootfs, "opt/ml/input/data/train/train.csv")) as f:
            rows = [next(f).rstrip("\n") for _ in range(5)]
        server = subprocess.Popen(self.container_argv(["serve"], user), env=self.container_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # unshare and nsenter exec: the PID is the server's, and its root is the image's.
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if os.readlink(f"/proc/{server.pid}/exe").endswith("/usr/local/bin/ipinsights"):
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            self.assertEqual(os.path.realpath(os.readlink(f"/proc/{server.pid}/root")),
                             os.path.realpath(self.rootfs))
            if user is not None and not self.rootless:
                with open(f"/proc/{server.pid}/status") as f:
                    uid_line = next(l for l in f if l.startswith("Uid:"))
                self.assertEqual(uid_line.split()[1], str(user))
            ping = {"status": 0}
            while time.time() < deadline and server.poll() is None:
                ping = self.http("GET", "/ping")
                if ping["status"] == 200:
                    break
                time.sleep(0.2)
            self.assertEqual(ping["status"], 200, ping)
            inv = self.http("POST", "/invocations", "\n".join(rows) + "\n", "text/csv")
            self.assertEqual(inv["status"], 200, inv)
            predictions = json.loads(inv["body"])["predictions"]
            self.assertEqual(len(predictions), 5)
            for p in predictions:
                self.assertIsInstance(p["dot_product"], float)
            bad = self.http("POST", "/invocations", "someone,not-an-ip\n", "text/csv")
            self.assertEqual(bad["status"], 400, bad)
        finally:
            if server.poll() is None:
                os.kill(server.pid, signal.SIGTERM)
            try:
                out, err = server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                out, err = server.communicate()
        self.assertEqual(server.returncode, 0, err[-4000:])

    def test_3_sagemaker_train_then_serve(self):
        # Channels written by the image itself: simulate + prepare (two more subcommands).
        self.run_image(["simulate", "cloudtrail", "--out", "/work/logs", "--users", "60",
                        "--days", "3", "--attacks", "20", "--quiet"])
        self.run_image(["prepare", "cloudtrail", "--input", "/work/logs", "--output",
                        "/opt/ml/input/data/train/train.csv", "--validation-output",
                        "/opt/ml/input/data/validation/validation.csv", "--validation-fraction",
                        "0.1", "--quiet"])
        ml = os.path.join(self.rootfs, "opt/ml")
        with open(os.path.join(ml, "input/data/train/train.csv")) as f:
            rows = f.read().splitlines()
        self.assertGreater(len(rows), 100)
        hp = {"num_entity_vectors": "200", "vector_dim": "16", "epochs": "2",
              "mini_batch_size": "500", "learning_rate": "0.01"}
        with open(os.path.join(ml, "input/config/hyperparameters.json"), "w") as f:
            json.dump(hp, f)

        r = self.run_image(["train"])
        self.assertIn("Epoch[", r.stdout + r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(ml, "model/model.ipinsights")))
        with open(os.path.join(ml, "model/metrics.json")) as f:
            metrics = json.load(f)
        self.assertEqual(len(metrics["epochs"]), 2)
        # The validation channel was found: each epoch has its discriminator AUC.
        self.assertIsNotNone(metrics["epochs"][-1]["validation_auc"])
        self.assertEqual(str(metrics["hyperparameters"]["vector_dim"]), "16")
        self.assertFalse(os.path.exists(os.path.join(ml, "output/failure")))

        self.serve_and_stop()

    def test_3b_sm_root_moves_opt_ml(self):
        # SM_ROOT moves /opt/ml (how tests and other runners point the contract elsewhere).
        ml = os.path.join(self.rootfs, "opt/ml")
        if not os.path.isfile(os.path.join(ml, "input/data/train/train.csv")):
            self.skipTest("test_3 did not write the channels")
        root = os.path.join(self.rootfs, "tmp/sm")
        shutil.copytree(os.path.join(ml, "input"), os.path.join(root, "input"))
        self.run_image(["train"], extra_env={"SM_ROOT": "/tmp/sm"})
        self.assertTrue(os.path.isfile(os.path.join(root, "model/model.ipinsights")))
        self.assertTrue(os.path.isfile(os.path.join(root, "model/metrics.json")))

    def test_4_runs_as_a_non_root_user(self):
        # `docker run --user 1000` / Kubernetes runAsNonRoot: the layout lets uid 1000 train
        # into /work and serve /opt/ml/model.
        if self.rootless:
            self.skipTest("as non-root only uid 0 is mapped in the user namespace")
        if not os.path.isfile(os.path.join(self.rootfs, "opt/ml/model/model.ipinsights")):
            self.skipTest("test_3 did not train a model")
        self.run_image(["train", "--train", "/opt/ml/input/data/train", "--model-dir",
                        "/work/model-1000", "--epochs", "1", "--quiet"], user=1000)
        st = os.stat(os.path.join(self.rootfs, "work/model-1000/model.ipinsights"))
        self.assertEqual(st.st_uid, 1000)
        self.serve_and_stop(user=1000)

def main():
    global ARGS
    ARGS, rest = harness.parse_args()
    harness.run(rest)


if __name__ == "__main__":
    main()
