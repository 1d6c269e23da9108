"""Alerts and metrics for `tracker-backup run` (lib/notify.sh calls it; docs/monitoring.md).

start:  POST <url>/start (healthchecks.io's conventions).
finish: reads the run's status.json document on stdin; writes tracker_backup.prom into the
        metrics directory (when it exists) and POSTs <url> on success, <url>/fail on a
        failed run or a failed off-site copy, the run's last log lines as the body.

The URL is read from a root-only file, never taken from argv (other users see argv in ps)
and never logged: its path is the check's key. Python because it is on every host Ansible
manages, with an HTTP client and a JSON parser; curl and jq are not.
A ping that fails is a WARN line; the backup's outcome and exit code never depend on it.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

BODY_MAX = 10_000
PING_TIMEOUT_SECONDS = 10
PING_ATTEMPTS = 2
PROM_NAME = "tracker_backup.prom"


def log(level, message):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    print(f"[{stamp}] {level}: {message}", flush=True)


def tail(data, limit=BODY_MAX):
    """The last whole lines of DATA (bytes) that fit in LIMIT bytes."""
    if len(data) <= limit:
        return data
    cut = data[-limit:]
    newline = cut.find(b"\n")
    return cut[newline + 1 :] if newline >= 0 else cut


def read_url(path):
    try:
        with open(path, encoding="utf-8") as handle:
            url = handle.read().strip()
    except FileNotFoundError:
        return None
    if not re.match(r"^https?://\S+$", url):
        log("WARN", f"alert ping skipped: {path} does not hold an http(s) URL")
        return None
    return url.rstrip("/")


def ping(url, suffix, body):
    """POSTs BODY to URL+SUFFIX; one retry. Returns True when the receiver answered 2xx."""
    problem = ""
    for attempt in range(PING_ATTEMPTS):
        if attempt:
            time.sleep(2)
        request = urllib.request.Request(url + suffix, data=body, method="POST")
        request.add_header("Content-Type", "text/plain; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=PING_TIMEOUT_SECONDS) as response:
                response.read()
            return True
        # Only the reason is logged: an exception's text may quote the URL and its key.
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}"
        except urllib.error.URLError as error:
            problem = "URL error" if "://" in str(error.reason) else str(error.reason)
        except (OSError, ValueError) as error:
            problem = type(error).__name__
    name = suffix.lstrip("/") or "success"
    log("WARN", f"alert ping ({name}) failed after {PING_ATTEMPTS} attempts: {problem}; the backup's result is unchanged")
    return False


def epoch(iso):
    if not iso:
        return None
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


PREVIOUS = re.compile(r'^(tracker_backup_last_success_(?:timestamp_seconds|size_bytes\{kind="[a-z]+"\}))\s+(\S+)$')


def previous_success(path):
    """The last success's samples from the previous file: a failed run keeps them."""
    samples = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = PREVIOUS.match(line.strip())
                if match:
                    samples[match.group(1)] = match.group(2)
    except FileNotFoundError:
        pass
    return samples


def number(value):
    return f"{value:.0f}" if float(value).is_integer() else repr(float(value))


def metrics(status, previous):
    """The text of tracker_backup.prom for STATUS (a status.json document)."""
    out = []

    def metric(name, kind, help_text, samples):
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(f"{name}{labels} {value}" for labels, value in samples)

    finished = epoch(status.get("finished")) or time.time()
    started = epoch(status.get("started")) or finished
    success = status.get("result") == "success"
    if success:
        sizes = {}
        for entry in status.get("files", []):
            sizes[entry["kind"]] = sizes.get(entry["kind"], 0) + int(entry["bytes"])
        last_success = number(finished)
        size_samples = [(f'{{kind="{kind}"}}', str(total)) for kind, total in sorted(sizes.items())]
    else:
        last_success = previous.get("tracker_backup_last_success_timestamp_seconds", "0")
        size_samples = sorted(
            (key[len("tracker_backup_last_success_size_bytes") :], value)
            for key, value in previous.items()
            if key.startswith("tracker_backup_last_success_size_bytes")
        )
    metric("tracker_backup_last_run_timestamp_seconds", "gauge", "When the last backup run finished (Unix time).", [("", number(finished))])
    metric("tracker_backup_last_run_success", "gauge", "1 if the last backup run succeeded, 0 if it failed.", [("", "1" if success else "0")])
    metric("tracker_backup_last_run_exit_code", "gauge", "Exit code of the last backup run (0 success, 1 failure).", [("", str(int(status.get("exit_code", 1))))])
    metric("tracker_backup_last_run_duration_seconds", "gauge", "How long the last backup run took.", [("", number(max(0.0, finished - started)))])
    metric("tracker_backup_last_success_timestamp_seconds", "gauge", "When the last successful backup run finished (Unix time; 0: none recorded).", [("", last_success)])
    if size_samples:
        metric("tracker_backup_last_success_size_bytes", "gauge", "Size of the last successful run's backup files, per kind (sqlite, mysql, config).", size_samples)
    offsite = status.get("offsite")
    if isinstance(offsite, dict) and offsite.get("result") in ("success", "failed"):
        metric("tracker_backup_offsite_last_run_success", "gauge", "1 if the last run's off-site copy succeeded, 0 if it failed.", [("", "1" if offsite["result"] == "success" else "0")])
        last = epoch(offsite.get("last_success"))
        metric("tracker_backup_offsite_last_success_timestamp_seconds", "gauge", "When the last off-site copy succeeded (Unix time; 0: never).", [("", number(last or 0))])
        if offsite.get("bytes_added") is not None:
            metric("tracker_backup_offsite_last_run_added_bytes", "gauge", "Bytes the last off-site copy added to the repository.", [("", str(int(offsite["bytes_added"])))])
    return "\n".join(out) + "\n"


def write_metrics(directory, status):
    """tracker_backup.prom, whole or not at all: node_exporter reads *.prom only, so the
    hidden temp name is never read half-written. The directory may belong to another user
    (prometheus); mkstemp creates a new file (O_EXCL) and the rename replaces the name, so
    no link planted there is followed."""
    if not os.path.isdir(directory):
        return
    target = os.path.join(directory, PROM_NAME)
    try:
        text = metrics(status, previous_success(target))
        fd, temp = tempfile.mkstemp(prefix=".tracker_backup.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            os.unlink(temp)
            raise
    except (OSError, ValueError, KeyError, TypeError) as error:
        log("WARN", f"could not write {target} (the previous one is kept): {error}")


def finish(args):
    status = json.load(sys.stdin)
    if args.metrics_dir:
        write_metrics(args.metrics_dir, status)
    url = read_url(args.url_file)
    if url is None:
        return
    try:
        with open(args.log, "rb") as handle:
            captured = handle.read()
    except (FileNotFoundError, TypeError):
        captured = b"(no log captured: the run stopped before its log was recorded)\n"
    offsite = status.get("offsite")
    note = b""
    if args.code != 0:
        suffix = "/fail"
    elif isinstance(offsite, dict) and offsite.get("result") == "failed":
        suffix = "/fail"
        message = str(offsite.get("message") or "no message")
        note = f"Local backup succeeded; the off-site copy FAILED: {message}\n".encode()[: BODY_MAX // 2]
    else:
        suffix = ""
    ping(url, suffix, note + tail(captured, BODY_MAX - len(note)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["start", "finish"])
    parser.add_argument("--url-file", required=True)
    parser.add_argument("--log")
    parser.add_argument("--code", type=int, default=1)
    parser.add_argument("--metrics-dir")
    args = parser.parse_args()
    if args.action == "start":
        url = read_url(args.url_file)
        if url is not None:
            ping(url, "/start", b"")
    else:
        finish(args)


if __name__ == "__main__":
    main()
