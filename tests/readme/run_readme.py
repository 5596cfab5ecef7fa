#!/usr/bin/env python3
"""Runs every command the README shows, in order, in a fresh folder, as a newcomer would.

A README that drifts from the program fails CI: each command must exit 0. What it reads:
  - indented code blocks (4 spaces) and ```sh / ```python fenced blocks, in file order;
    a line ending in a backslash continues on the next one, and a here-document
    (`cat > f <<'EOF'` up to `EOF`) is part of its command;
  - `ipinsights ...` runs the binary under test ($IPINSIGHTS_BINARY or --binary), put first
    on PATH so the README's commands run unchanged;
  - `ipinsights serve ...` is started in the background; the next command waits until its
    port answers; every server is stopped by PID at the end and must exit 0 (a drained stop);
  - `bash scripts/demo.sh` runs the `ipinsights demo` it ends in (the build it starts with
    is the one that made the binary under test); `bash scripts/test.sh` is skipped, since this
    test is part of it;
  - commands touching s3:// run against a moto_server started here (AWS_ENDPOINT_URL_S3),
    commands starting with `aws` need the AWS CLI, python blocks that import boto3 need boto3:
    where one is missing the command is skipped with the reason printed (moto_server and
    boto3 are on the development image, not on a fresh Debian machine).
The AWS clients get a region and dummy credentials, as the README tells a user to set.

Usage: run_readme.py --readme README.md --binary build/release/ipinsights [--keep DIR]
Exit status: 0 all ran (or were skipped with a reason), 1 a command failed.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def blocks(readme_text):
    """Yields (line_number, kind, text) for every runnable block: kind 'sh' or 'python'."""
    lines = readme_text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^```(\w*)\s*$", line)
        if fence:
            language = fence.group(1)
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            if language in ("sh", "bash", "shell"):
                yield start + 1, "sh", "\n".join(lines[start:i])
            elif language == "python":
                yield start + 1, "python", "\n".join(lines[start:i])
            i += 1
            continue
        previous_blank = i == 0 or lines[i - 1].strip() == ""
        if line.startswith("    ") and line.strip() and previous_blank:
            start = i
            while i < len(lines) and (lines[i].startswith("    ") or lines[i].strip() == ""):
                i += 1
            body = [l[4:] for l in lines[start:i]]
            while body and not body[-1].strip():
                body.pop()
            yield start + 1, "sh", "\n".join(body)
            continue
        i += 1


def commands(line_number, text):
    """Splits a shell block into (line_number, command), joining backslash continuations
    and keeping a here-document (`cat > f <<'EOF'` ... `EOF`) with its command."""
    pending, first, heredoc_end = "", None, None
    for offset, line in enumerate(text.split("\n")):
        if heredoc_end is not None:
            pending += line + "\n"
            if line.strip() == heredoc_end:
                yield first, pending.rstrip("\n")
                pending, first, heredoc_end = "", None, None
            continue
        if first is None:
            if not line.strip():
                continue
            first = line_number + offset
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?\s*$", line)
        if heredoc:
            heredoc_end = heredoc.group(1)
            pending += line + "\n"
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield first, pending + line
        pending, first = "", None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url, seconds=30, process=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except Exception:
            time.sleep(0.1)
    return False


def python_has(module):
    return subprocess.run([sys.executable, "-c", "import " + module],
                          capture_output=True).returncode == 0


class Runner:
    def __init__(self, args):
        self.repo = os.path.dirname(os.path.abspath(args.readme))
        self.binary = os.path.abspath(args.binary)
        self.work = args.keep or tempfile.mkdtemp(prefix="ipinsights_readme_")
        os.makedirs(self.work, exist_ok=True)
        bin_dir = os.path.join(self.work, ".bin")
        os.makedirs(bin_dir, exist_ok=True)
        link = os.path.join(bin_dir, "ipinsights")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(self.binary, link)
        self.env = dict(os.environ)
        self.env["PATH"] = bin_dir + os.pathsep + self.env.get("PATH", "")
        self.env.setdefault("AWS_ACCESS_KEY_ID", "readme-test")
        self.env.setdefault("AWS_SECRET_ACCESS_KEY", "readme-test-secret")
        self.env.setdefault("AWS_REGION", "us-east-1")
        self.env.setdefault("AWS_DEFAULT_REGION", self.env["AWS_REGION"])
        self.env.pop("AWS_PROFILE", None)
        self.servers = []  # (readme line, Popen)
        self.moto = None
        self.failures = 0
        self.ran = 0
        self.skipped = []

    def missing_for(self, kind, command):
        if kind == "python":
            if "boto3" in command and not python_has("boto3"):
                return "boto3 is not installed (it is on the development image only)"
            return None
        if command.startswith("aws ") and shutil.which("aws") is None:
            return "the AWS CLI is not installed"
        if "s3://" in command:
            # The README fills its bucket with the AWS CLI, so every S3 line needs both.
            if shutil.which("moto_server") is None:
                return "moto_server is not installed (it is on the development image only), so there is no S3 to run against"
            if shutil.which("aws") is None:
                return "the AWS CLI is not installed, and the README fills its bucket with it"
            self.start_moto()
        return None

    def start_moto(self):
        if self.moto is not None:
            return
        port = free_port()
        self.moto = subprocess.Popen(["moto_server", "-p", str(port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=self.work)
        url = "http://127.0.0.1:%d" % port
        if not wait_for_http(url + "/moto-api/", process=self.moto):
            raise SystemExit("readme: moto_server did not start")
        self.env["AWS_ENDPOINT_URL_S3"] = url

    def run(self, where, kind, command):
        missing = None if kind == "script" else self.missing_for(kind, command)
        if missing:
            self.skipped.append("%s: skipped (%s): %s" % (where, missing, command))
            print(self.skipped[-1], flush=True)
            return True
        if kind == "sh":
            stripped = command.strip()
            if re.match(r"^bash scripts/test\.sh\b", stripped):
                self.skipped.append("%s: skipped (this test runs inside it): %s" % (where, stripped))
                print(self.skipped[-1], flush=True)
                return True
            demo = re.match(r"^bash scripts/demo\.sh\b(.*)$", stripped)
            if demo:
                # demo.sh = install + build (already done: it made the binary) + `ipinsights demo`.
                command = "ipinsights demo" + demo.group(1)
            if re.match(r"^ipinsights serve\b", stripped):
                return self.start_server(where, command)
            argv = ["bash", "-o", "pipefail", "-c", command]
        elif kind == "script":
            argv = ["bash", "-c", command]
        else:
            script = os.path.join(self.work, ".readme_%d.py" % self.ran)
            with open(script, "w") as f:
                f.write(command + "\n")
            argv = [sys.executable, script]
        if kind != "script":
            print("%s: $ %s" % (where, command.strip().split("\n")[0]), flush=True)
        started = time.time()
        # Its own session, so a timeout stops the command's children (a `train`) as well.
        process = subprocess.Popen(argv, cwd=self.work, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, errors="replace",
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            stderr += "\n(killed after 900 s)"
            process.returncode = -1
        result = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
        self.ran += 1
        if result.returncode != 0:
            print("%s: FAILED with exit code %d after %.1f s\n--- stdout\n%s\n--- stderr\n%s" %
                  (where, result.returncode, time.time() - started, result.stdout[-4000:],
                   result.stderr[-4000:]), flush=True)
            self.failures += 1
            return False
        print("%s: ok in %.1f s" % (where, time.time() - started), flush=True)
        return True

    def run_block(self, block):
        """Runs a shell block: consecutive plain commands as one script (so a variable set on
        one line is seen on the next), servers and skipped commands on their own."""
        batch = []

        def flush():
            if not batch:
                return True
            script = ["set -eo pipefail", "trap 'echo \"failed at README.md:$readme_line\" >&2' ERR"]
            for line, command in batch:
                script += ["readme_line=%d" % line, command]
            where = "README.md:%d-%d" % (batch[0][0], batch[-1][0]) if len(batch) > 1 else \
                "README.md:%d" % batch[0][0]
            for line, command in batch:
                print("README.md:%d: $ %s" % (line, command.strip()), flush=True)
            del batch[:]
            return self.run(where, "script", "\n".join(script))

        for line, command in block:
            stripped = command.strip()
            special = (re.match(r"^(ipinsights serve|bash scripts/(test|demo)\.sh)\b", stripped) or
                       self.missing_for("sh", stripped))
            if special:
                if not flush() or not self.run("README.md:%d" % line, "sh", command):
                    return False
            else:
                batch.append((line, command))
        return flush()

    def start_server(self, where, command):
        port = re.search(r"--port[ =](\d+)", command)
        port = int(port.group(1)) if port else 8080
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                print("%s: FAILED: port %d is already in use, so the README's server cannot start"
                      % (where, port), flush=True)
                self.failures += 1
                return False
        print("%s: $ %s   (in the background)" % (where, command.strip()), flush=True)
        log = open(os.path.join(self.work, ".serve_%d.log" % port), "w")
        process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=self.work, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.servers.append((where, process, log.name))
        self.ran += 1
        if not wait_for_http("http://127.0.0.1:%d/ping" % port, process=process):
            with open(log.name) as f:
                print("%s: FAILED: the server did not answer /ping on port %d\n%s" %
                      (where, port, f.read()[-4000:]), flush=True)
            self.failures += 1
            return False
        return True

    def stop(self):
        for where, process, log in self.servers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    code = process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = process.wait()
                if code != 0:
                    print("%s: FAILED: the server exited %d on SIGTERM" % (where, code), flush=True)
                    self.failures += 1
            else:
                with open(log) as f:
                    print("%s: FAILED: the server stopped early (exit %s)\n%s" %
                          (where, process.returncode, f.read()[-2000:]), flush=True)
                self.failures += 1
        if self.moto is not None:
            self.moto.terminate()
            try:
                self.moto.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.moto.kill()
                self.moto.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--binary", default=os.environ.get("IPINSIGHTS_BINARY"))
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    if not args.binary:
        parser.error("--binary or IPINSIGHTS_BINARY is required")
    with open(args.readme) as f:
        text = f.read()
    runner = Runner(args)
    try:
        for line_number, kind, body in blocks(text):
            if kind == "python":
                if not runner.run("README.md:%d" % line_number, kind, body):
                    break
            elif not runner.run_block(list(commands(line_number, body))):
                break
    finally:
        runner.stop()
        if not args.keep:
            shutil.rmtree(runner.work, ignore_errors=True)
    print("readme: %d commands ran, %d skipped, %d failed" %
          (runner.ran, len(runner.skipped), runner.failures), flush=True)
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
