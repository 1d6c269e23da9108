#!/usr/bin/env bash
# maintenance-backup.sh: the guide's name for `tracker-backup run`, the one the cron entry
# calls. Installed by the tracker_backup role:
#   cd /opt/torrust && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1
# Exit codes: 0 backup done; 1 backup failed (tracker restarted if it had been running);
# 75 another backup holds the lock (nothing done).
set -euo pipefail
exec /usr/local/bin/tracker-backup run "$@"
