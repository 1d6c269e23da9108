# Writes the play recap (ok/changed/failed per host) and the role's set_stats data as
# JSON to $TRACKER_BACKUP_STATS_FILE, so the tracker-backup CLI reads results from
# structure while Ansible's normal output still streams to the terminal.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: tracker_backup_stats
type: aggregate
short_description: Write the play recap as JSON for the tracker-backup CLI
description:
  - Does nothing unless the TRACKER_BACKUP_STATS_FILE environment variable names a file.
requirements:
  - enabled in ansible.cfg (callbacks_enabled)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tracker_backup_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("TRACKER_BACKUP_STATS_FILE")
        if not path:
            return
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"hosts": hosts, "custom": stats.custom}, out)
