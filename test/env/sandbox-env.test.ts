// scripts/sandbox-env.ts: the env file a sandbox target gets is built, validated by the
// project's own loader and written atomically; an invalid one is refused with the loader's
// message and leaves nothing behind.
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvError } from '../../src/env/errors.js';
import { loadEnv } from '../../src/env/load.js';
import { inputFromEnvironment, MYSQL_PASSWORD_FILE, sandboxEnvText, writeSandboxEnv, type SandboxEnvInput } from '../../scripts/sandbox-env.js';

// The sandbox's default MySQL password (sandbox/deployment.sh): every layer must carry it verbatim.
const HOSTILE = 'p\'"$(touch /tmp/pwned) `id` sp ace\\back{{x}}';

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'tb-sandbox-env-'));
}

function input(driver: 'sqlite3' | 'mysql', name: string): SandboxEnvInput {
  return {
    envName: `sandbox-${name}`,
    privateKey: `/srv/tracker-backup-sandbox/${name}/id_ed25519`,
    user: 'torrust',
    host: '127.0.0.1',
    port: 32768,
    deployDir: `/srv/tracker-backup-sandbox/${name}/torrust`,
    database:
      driver === 'mysql'
        ? { driver, host: 'mysql', port: 3306, databaseName: 'torrust_tracker', username: 'tracker_user', password: HOSTILE }
        : { driver },
  };
}

describe('writeSandboxEnv', () => {
  // The env file depends on the driver and the sandbox's names only; --os and --layout
  // change the target, not what Ansible is told about it.
  for (const driver of ['sqlite3', 'mysql'] as const) {
    for (const name of ['default', 'e2e-123', 'deployer-mysql-9']) {
      it(`writes an env file the loader accepts (${driver}, ${name})`, async () => {
        const dir = scratch();
        const out = path.join(dir, 'sandbox.json');
        const given = input(driver, name);
        writeSandboxEnv(out, given);
        const { env } = await loadEnv(out);
        expect(env.environment.name).toBe(given.envName);
        expect(env.deploy_dir).toBe(given.deployDir);
        expect(env.instance?.host).toBe(given.host);
        expect(env.ssh_credentials.port).toBe(given.port);
        expect(env.ssh_credentials.public_key_path).toBe(`${given.privateKey}.pub`);
        const database = env.tracker.core.database;
        expect(database.driver).toBe(driver);
        if (database.driver === 'mysql' && given.database.driver === 'mysql') {
          expect(database.password).toBe(given.database.password);
          // It holds the password.
          expect(statSync(out).mode & 0o777).toBe(0o600);
        }
        // No temporary file is left beside it.
        expect(readdirSync(dir)).toEqual(['sandbox.json']);
      });
    }
  }

  it('refuses an invalid env with the loader\'s message and writes nothing', async () => {
    const dir = scratch();
    const out = path.join(dir, 'sandbox.json');
    const bad = { ...input('mysql', 'bad'), deployDir: 'relative/torrust', port: 0 };
    let refused: unknown;
    try {
      writeSandboxEnv(out, bad);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(EnvError);
    expect(readdirSync(dir)).toEqual([]);
    // The same text, read by the loader the CLI uses, fails with the same message.
    writeFileSync(out, sandboxEnvText(bad));
    const loaded = await loadEnv(out).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(loaded).toBeInstanceOf(EnvError);
    expect((refused as EnvError).message).toBe((loaded as EnvError).message);
    expect((refused as EnvError).issues.map((i) => i.path)).toEqual(expect.arrayContaining(['deploy_dir', 'ssh_credentials.port']));
  });
});

describe('inputFromEnvironment', () => {
  function environment(deployDir: string, driver: string): NodeJS.ProcessEnv {
    return {
      SANDBOX_DEPLOY: deployDir,
      SANDBOX_DRIVER: driver,
      SANDBOX_ENV_NAME: 'sandbox-x',
      SANDBOX_KEY: '/srv/x/id_ed25519',
      SANDBOX_SSH_USER: 'torrust',
      SANDBOX_SSH_HOST: '127.0.0.1',
      SANDBOX_SSH_PORT: '40000',
      SANDBOX_MYSQL_SERVICE: 'mysql',
      SANDBOX_MYSQL_PORT: '3306',
      SANDBOX_MYSQL_DATABASE: 'torrust_tracker',
      SANDBOX_MYSQL_USER: 'tracker_user',
    };
  }

  it('reads the MySQL password from the deployment\'s password file, byte for byte', () => {
    const deployDir = scratch();
    const file = path.join(deployDir, MYSQL_PASSWORD_FILE);
    mkdirSync(path.dirname(file), { recursive: true });
    // A trailing newline is part of the password, not a line end to strip.
    writeFileSync(file, `${HOSTILE}\n`);
    const read = inputFromEnvironment(environment(deployDir, 'mysql'));
    expect(read.database).toEqual({ driver: 'mysql', host: 'mysql', port: 3306, databaseName: 'torrust_tracker', username: 'tracker_user', password: `${HOSTILE}\n` });
    expect(read.port).toBe(40000);
  });

  it('needs every value and a known driver', () => {
    const withoutKey = environment('/srv/x/torrust', 'sqlite3');
    delete withoutKey.SANDBOX_KEY;
    expect(() => inputFromEnvironment(withoutKey)).toThrow('SANDBOX_KEY is not set');
    expect(() => inputFromEnvironment(environment('/srv/x/torrust', 'postgres'))).toThrow('SANDBOX_DRIVER must be sqlite3 or mysql');
  });
});
