"""Reads, in one round trip, what the role would otherwise ask the host task by task.

Run by tasks/requirements.yml as `python3 -c <this file>` with the request, JSON, on stdin, as root and
read-only: the role compares the answer with what it would install and runs only the
tasks whose files differ, so an idempotent re-provision costs one SSH round trip here
instead of two per installed file. Prints one JSON object on stdout.
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys


def describe(path, digest):
    """'TYPE MODE UID GID[ SHA256]' of path, not following a final symlink; None when absent."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    kind = "d" if stat.S_ISDIR(info.st_mode) else "f" if stat.S_ISREG(info.st_mode) else "o"
    state = f"{kind} {stat.S_IMODE(info.st_mode):o} {info.st_uid} {info.st_gid}"
    if digest and kind == "f":
        with open(path, "rb") as handle:
            state += " " + hashlib.sha256(handle.read()).hexdigest()
    return state


def succeeds(*argv):
    try:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0
    except OSError:
        return False


def main():
    request = json.load(sys.stdin)
    answer = {"files": {}, "lines": {}}
    for path in request["stat"]:
        answer["files"][path] = describe(path, digest=False)
    for path in request["hash"]:
        answer["files"][path] = describe(path, digest=True)
    # Every entry of these directories, hashed: files there that the role does not ship show up too.
    for directory in request["list"]:
        if os.path.isdir(directory) and not os.path.islink(directory):
            for name in sorted(os.listdir(directory)):
                answer["files"][os.path.join(directory, name)] = describe(os.path.join(directory, name), digest=True)
    # Lines starting with a prefix, not whole files: .env holds the deployment's secrets.
    for path, prefix in request["lines"].items():
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                answer["lines"][path] = [line.rstrip("\n") for line in handle if line.startswith(prefix)]
        except FileNotFoundError:
            answer["lines"][path] = None
    cron = request["cron"]
    answer["cron"] = None
    if os.path.isfile(cron) and not os.path.islink(cron):
        with open(cron, encoding="utf-8", errors="replace") as handle:
            answer["cron"] = handle.read()
    answer["deploy_dir"] = os.path.isdir(request["deploy_dir"])
    missing = [tool for tool in ("docker", "flock", "timeout") if shutil.which(tool) is None]
    if not (succeeds("docker", "compose", "version") or shutil.which("docker-compose")):
        missing.append("docker-compose(or the compose plugin)")
    answer["missing"] = missing
    answer["image"] = bool(request["image"]) and succeeds("docker", "image", "inspect", request["image"])
    # Modules that need a temporary directory create this one themselves on a fresh host and
    # warn that they did; made here, before them, it is simply there. Not in a dry run.
    if request["make_tmp"]:
        os.makedirs(os.path.expanduser("~/.ansible/tmp"), mode=0o700, exist_ok=True)
    print(json.dumps(answer))


main()
