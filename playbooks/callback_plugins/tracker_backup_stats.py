# Writes the play recap (ok/changed/failed per host) and the role's set_stats data as
# JSON to $TRACKER_BACKUP_STATS_FILE, so the tracker-backup CLI reads results from
# structure while Ansible's normal output still streams to the terminal. It also names the
# hosts the plays were meant for (after --limit), so the CLI can tell a host that was never
# reached from one that was left out on purpose.
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._targets = set()
        self._targets_known = True

    def v2_playbook_on_play_start(self, play):
        # Called once per batch, with the inventory already narrowed to that batch and
        # --limit. Ansible offers no public way to the inventory from a callback; when the
        # private one is gone, the CLI falls back to the hosts the environments name.
        inventory = getattr(getattr(play, "_variable_manager", None), "_inventory", None)
        if inventory is None:
            self._targets_known = False
            return
        self._targets.update(host.name for host in inventory.get_hosts(play.hosts))

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("TRACKER_BACKUP_STATS_FILE")
        if not path:
            return
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed)}
        report = {"hosts": hosts, "custom": stats.custom}
        if self._targets_known:
            report["targets"] = sorted(self._targets)
        with open(path, "w", encoding="utf-8") as out:
            json.dump(report, out)
