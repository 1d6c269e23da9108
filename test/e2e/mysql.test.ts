// MySQL backups on a real target: a real MariaDB 10.11 server in the sandbox stack (built
// locally from Debian's mariadb-server), mysqldump in the backup container, a password
// full of shell and template syntax, a restore into a fresh server, and the database
// going away mid-life.
//
// Stand-in: the tracker service only (sandbox/tracker), writing rows into MariaDB.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultEncrypt } from '../helpers.js';
import { cli, envVariant, onTarget, sandboxDown, sandboxUp, waitFor, type Sandbox, runMaintenance, lastStatus, trackerRunning, mysqlOf } from './sandbox.js';

let sandbox: Sandbox | undefined;
let password = '';
const measured: Record<string, unknown> = {};
const TABLES = ['torrents', 'keys', 'whitelist'];

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

/** Every row of every tracker table, in a fixed order: equal text means equal data. */
function canonicalQuery(): string {
  return TABLES.map((t) => `SELECT '${t}', t.* FROM \`${t}\` t ORDER BY 2;`).join(' ');
}

async function canonicalOnTarget(): Promise<string> {
  const out = await onTarget(target(), `docker exec "$(docker-compose ps -q mysql)" mariadb -uroot -N torrust_tracker -e "${canonicalQuery().replaceAll('`', '\\`')}"`);
  if (out.exitCode !== 0) throw new Error(out.stderr);
  return out.stdout;
}

beforeAll(async () => {
  sandbox = await sandboxUp('mysql', ['--driver', 'mysql']);
  password = mysqlOf(target().env).password;
});

afterAll(async () => {
  await sandboxDown(sandbox);
  process.stdout.write(`mysql measurements: ${JSON.stringify(measured)}\n`);
});

describe('MySQL backups', () => {
  it('uses a password full of quotes, $(...), backticks, spaces, backslashes and {{ }}', () => {
    for (const piece of ["'", '"', '$(touch /tmp/pwned)', '`', ' ', '\\', '{{']) expect(password).toContain(piece);
  });

  it('a dry run (--check --diff) does not print the password', async () => {
    const run = await cli(['provision', '--env', target().envFile, '--check'], target());
    expect(run.exitCode).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(password);
  });

  it('provision takes the initial backup with mysqldump and nothing in the password is executed', async () => {
    const run = await cli(['provision', '--env', target().envFile], target());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/backup created: .*\/storage\/backup\/mysql\/mysql_\d{8}_\d{6}\.sql\.gz/);
    expect(run.stdout + run.stderr).not.toContain(password);
    expect((await onTarget(target(), 'test ! -e /tmp/pwned')).exitCode).toBe(0);
    expect((await execa('test', ['!', '-e', '/tmp/pwned'], { reject: false })).exitCode).toBe(0);
    const log = (await onTarget(target(), 'cat /var/log/tracker-backup.log')).stdout;
    expect(log).toMatch(/INFO: MySQL dump taken \(.*completion trailer present\)/);
    expect(log).not.toContain('PROCESS privilege');
    expect(log).not.toContain(password);
  });

  it('keeps the password only in the 0600 password file on the host', async () => {
    const found = await onTarget(
      target(),
      `grep -rlF -- "$(cat storage/backup/etc/mysql-password)" /etc/cron.d /var/log/tracker-backup.log storage/backup/etc /usr/local/bin /usr/local/lib/tracker-backup docker-compose.backup.yml .env 2>/dev/null || true; stat -c '%a %U' storage/backup/etc/mysql-password`,
    );
    expect(found.stdout.trim().split('\n')).toEqual(['storage/backup/etc/mysql-password', '600 root']);
    expect((await onTarget(target(), 'cat storage/backup/etc/mysql-password')).stdout).toBe(password);
  });

  it('a dump loaded into a fresh MariaDB server holds exactly the same rows', async () => {
    // Stop the writer so source and backup can be compared row for row.
    await onTarget(target(), 'docker-compose stop tracker >/dev/null 2>&1');
    try {
      const made = await onTarget(target(), 'docker-compose run --rm backup 2>&1');
      expect(made.exitCode, made.stdout).toBe(0);
      const source = await canonicalOnTarget();
      expect(source.split('\n').length).toBeGreaterThan(3);
      const stamp = /mysql_(\d{8}_\d{6})\.sql\.gz/.exec(made.stdout)?.[1];
      expect(stamp).toBeDefined();

      const scratch = mkdtempSync(path.join(tmpdir(), 'tb-fresh-mariadb-'));
      writeFileSync(path.join(scratch, 'password'), 'fresh-server-password', { mode: 0o600 });
      const name = `tb-fresh-mariadb-${process.pid}`;
      await execa('docker', ['run', '-d', '--name', name, '-v', `${scratch}/password:/run/secrets/tracker-password:ro`, 'tracker-backup-sandbox/mariadb:latest']);
      try {
        const ready = await waitFor(120, async () => (await execa('docker', ['exec', name, 'mariadb-admin', '-uroot', 'ping'], { reject: false })).exitCode === 0);
        expect(ready).toBe(true);
        const dump = `${target().deployDir}/storage/backup/mysql/mysql_${stamp}.sql.gz`;
        await execa('sh', ['-c', 'gunzip -c "$1" | docker exec -i "$2" mariadb -uroot torrust_tracker', 'sh', dump, name]);
        const restored = await execa('docker', ['exec', name, 'mariadb', '-uroot', '-N', 'torrust_tracker', '-e', canonicalQuery()]);
        expect(restored.stdout).toBe(source);
      } finally {
        await execa('docker', ['rm', '-f', name], { reject: false });
      }
    } finally {
      await onTarget(target(), 'docker-compose start tracker >/dev/null 2>&1');
    }
  });

  it('stop mode: status.json records the downtime', async () => {
    expect(await runMaintenance(target())).toBe(0);
    const s = await lastStatus(target());
    expect(s).toMatchObject({ result: 'success', mode: 'stop' });
    expect(s.files.map((f) => f.path)).toContain(`mysql/mysql_${s.stamp}.sql.gz`);
    measured.mysql_stop_downtime_s = s.tracker_downtime_seconds;
  });

  it('online mode: the tracker is never stopped', async () => {
    const online = envVariant(target(), 'online', (env) => {
      env.backup.mode = 'online';
    });
    expect((await cli(['provision', '--env', online], target())).exitCode).toBe(0);
    expect(await runMaintenance(target())).toBe(0);
    const s = await lastStatus(target());
    expect(s).toMatchObject({ result: 'success', mode: 'online', tracker_downtime_seconds: 0 });
    measured.mysql_online_downtime_s = s.tracker_downtime_seconds;
    expect((await cli(['provision', '--env', target().envFile], target())).exitCode).toBe(0);
  });

  it('restore round trip: tables changed after a backup come back exactly as they were', async () => {
    await onTarget(target(), 'docker-compose stop tracker >/dev/null 2>&1');
    try {
      const made = await cli(['backup', '--env', target().envFile], target());
      expect(made.exitCode).toBe(0);
      const stamp = /created mysql\/mysql_(\d{8}_\d{6})\.sql\.gz/.exec(made.stdout)?.[1] as string;
      const dataA = await canonicalOnTarget();
      await onTarget(target(), `docker exec "$(docker-compose ps -q mysql)" mariadb -uroot torrust_tracker -e "DELETE FROM torrents WHERE id % 2 = 0; INSERT INTO whitelist(info_hash) VALUES ('data-set-b')"`);
      expect(await canonicalOnTarget()).not.toBe(dataA);
      const run = await cli(['restore', '--env', target().envFile, '--at', stamp, '--only', 'database', '--yes'], target());
      expect(run.exitCode).toBe(0);
      expect(await canonicalOnTarget()).toBe(dataA);
    } finally {
      await onTarget(target(), 'docker-compose start tracker >/dev/null 2>&1');
    }
    // Once more with the tracker running, to measure how long a restore keeps it down.
    const timed = await cli(['restore', '--env', target().envFile, '--only', 'database', '--yes'], target());
    expect(timed.exitCode).toBe(0);
    expect(await trackerRunning(target())).toBe(true);
    measured.mysql_restore_downtime_s = Number(/Tracker started successfully \(down for ([\d.]+)s\)/.exec(timed.stdout)?.[1]);
  });

  it('database unreachable: the run fails with a clear line, tracker running, no partial file, nothing pruned', async () => {
    await onTarget(target(), ': > storage/backup/mysql/mysql_20200101_000000.sql.gz; docker-compose stop mysql >/dev/null 2>&1');
    const before = (await onTarget(target(), 'ls -1A storage/backup/mysql')).stdout;
    try {
      expect(await runMaintenance(target())).toBe(1);
      const log = (await onTarget(target(), 'tail -n 30 /var/log/tracker-backup.log')).stdout;
      expect(log).toContain('ERROR: MySQL at mysql:3306 is unreachable');
      expect(log).toContain('Backup maintenance completed (exit code: 1)');
      expect(await trackerRunning(target())).toBe(true);
      expect((await onTarget(target(), 'ls -1A storage/backup/mysql')).stdout).toBe(before);
      expect((await lastStatus(target())).result).toBe('failed');
    } finally {
      await onTarget(target(), 'docker-compose start mysql >/dev/null 2>&1');
    }
  });

  it('the password as {"file"}, {"env"} and an ansible-vault string: provision puts it on the host exactly and a backup dumps with it', async () => {
    const secrets = path.join(target().work, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    // A file as `echo` writes it: the trailing newline is not part of the password.
    writeFileSync(path.join(secrets, 'mysql-password'), `${password}\n`, { mode: 0o600 });
    const vaultPass = path.join(secrets, 'vault-pass');
    writeFileSync(vaultPass, 'e2e-vault-password\n', { mode: 0o600 });
    const [vaulted] = vaultEncrypt([password], vaultPass);
    const forms: [string, unknown, string[]][] = [
      ['file', { file: 'secrets/mysql-password' }, []],
      ['env', { env: 'TB_E2E_MYSQL_PASSWORD' }, []],
      ['vault', vaulted, ['--', '--vault-password-file', vaultPass]],
    ];
    process.env.TB_E2E_MYSQL_PASSWORD = password;
    try {
      for (const [form, value, ansibleArgs] of forms) {
        const env = envVariant(target(), `secret-${form}`, (data) => {
          (data.tracker.core.database as { password: unknown }).password = value;
        });
        // A wrong password on the host first (once there is a file), so only this provision can make the dump work.
        expect((await onTarget(target(), 'f=storage/backup/etc/mysql-password; if [[ -e $f ]]; then printf wrong > "$f"; fi')).exitCode).toBe(0);
        const run = await cli(['provision', '--env', env, '--phase', 'release', ...ansibleArgs], target());
        expect(run.exitCode, form).toBe(0);
        expect((await onTarget(target(), 'base64 -w0 storage/backup/etc/mysql-password')).stdout, form).toBe(Buffer.from(password).toString('base64'));
        // ansible-core 2.19 decrypts every role variable when it checks them, so backup needs it too.
        const made = await cli(['backup', '--env', env, ...ansibleArgs], target());
        expect(made.exitCode, form).toBe(0);
        expect(made.stdout, form).toMatch(/created mysql\/mysql_\d{8}_\d{6}\.sql\.gz/);
        for (const output of [run, made]) expect(output.stdout + output.stderr, form).not.toContain(password);
        const log = (await onTarget(target(), 'tail -n 40 /var/log/tracker-backup.log')).stdout;
        expect(log, form).toMatch(/INFO: MySQL dump taken/);
        expect(log, form).not.toContain(password);
      }
    } finally {
      delete process.env.TB_E2E_MYSQL_PASSWORD;
    }
  });

  // Last in this file: it leaves tracker_user with the last password tried.
  it('passwords with edge spaces, a trailing newline, or a JSON or YAML look: byte-exact on the host, backup and restore log in', async () => {
    const user = mysqlOf(target().env).username;
    for (const [i, candidate] of ['  lead and trail  \n', '{"a":1}', 'yes'].entries()) {
      const bytes = Buffer.from(candidate, 'utf8');
      // Hex into SQL and base64 into the file, so the exact bytes get there unquoted. The
      // stand-in tracker's file is rewritten in place: it is bind-mounted by inode.
      const changed = await onTarget(
        target(),
        `docker exec -i "$(docker-compose ps -q mysql)" mariadb -uroot <<'SQL'
SET @password = X'${bytes.toString('hex')}';
EXECUTE IMMEDIATE CONCAT('ALTER USER ''${user}''@''%'' IDENTIFIED BY PASSWORD ''', PASSWORD(@password), '''');
SQL
printf '%s' '${bytes.toString('base64')}' | base64 -d > storage/mysql/etc/tracker-password
docker-compose restart tracker >/dev/null 2>&1`,
      );
      expect(changed.exitCode, changed.stderr).toBe(0);
      const env = envVariant(target(), `password-${i}`, (data) => {
        mysqlOf(data).password = candidate;
      });
      expect((await cli(['provision', '--env', env, '--phase', 'release'], target())).exitCode).toBe(0);
      expect((await onTarget(target(), 'base64 -w0 storage/backup/etc/mysql-password')).stdout, JSON.stringify(candidate)).toBe(bytes.toString('base64'));

      const made = await cli(['backup', '--env', env], target());
      expect(made.exitCode, JSON.stringify(candidate)).toBe(0);
      const stamp = /created mysql\/mysql_(\d{8}_\d{6})\.sql\.gz/.exec(made.stdout)?.[1];
      expect(stamp, made.stdout).toBeDefined();
      // Restore logs in through the same password file and reader; once is enough to show it.
      if (i > 0) continue;
      const restored = await cli(['restore', '--env', env, '--at', stamp as string, '--only', 'database', '--yes'], target());
      expect(restored.exitCode, JSON.stringify(candidate)).toBe(0);
      expect(restored.stdout).toContain('Restored MySQL database');
    }
  });
});
