// Writes the environment file of a sandbox target (scripts/sandbox.sh up): builds it as an
// object, validates it with the project's own loader (src/env/), and writes it atomically.
// An invalid one is refused with the loader's message and nothing is written.
//
// Usage: tsx scripts/sandbox-env.ts OUT_FILE, with the SANDBOX_* environment scripts/sandbox.sh
// gives its modules: DEPLOY, DRIVER, ENV_NAME, KEY, SSH_USER, SSH_HOST, SSH_PORT and, for
// MySQL, MYSQL_SERVICE, MYSQL_PORT, MYSQL_DATABASE, MYSQL_USER. The MySQL password is read
// from the deployment's password file, so it is never on a command line or in a variable.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvError } from '../src/env/errors.js';
import { parseEnv } from '../src/env/load.js';

/** Where sandbox/deployment.sh keeps the MySQL password, in the deploy directory. */
export const MYSQL_PASSWORD_FILE = 'storage/mysql/etc/tracker-password';

export interface SandboxEnvInput {
  envName: string;
  privateKey: string;
  user: string;
  host: string;
  port: number;
  deployDir: string;
  database:
    | { driver: 'sqlite3' }
    | { driver: 'mysql'; host: string; port: number; databaseName: string; username: string; password: string };
}

/** The env file's JSON text (key order and indentation as an operator would write it). */
export function sandboxEnvText(input: SandboxEnvInput): string {
  const { database } = input;
  const env = {
    $schema: '../schemas/environment.schema.json',
    environment: { name: input.envName },
    ssh_credentials: {
      private_key_path: input.privateKey,
      public_key_path: `${input.privateKey}.pub`,
      username: input.user,
      port: input.port,
    },
    instance: { host: input.host },
    deploy_dir: input.deployDir,
    ansible: { host_key_checking: false },
    tracker: {
      core: {
        database:
          database.driver === 'mysql'
            ? { driver: 'mysql', host: database.host, port: database.port, database_name: database.databaseName, username: database.username, password: database.password }
            : { driver: 'sqlite3', database_name: 'tracker.db' },
        private: false,
      },
    },
    backup: { schedule: '0 3 * * *', retention_days: 7 },
  };
  return `${JSON.stringify(env, null, 2)}\n`;
}

/**
 * Validates the env file with the loader (throws its EnvError, naming `out`), then writes
 * it to a fresh temporary name beside `out` and renames it over `out`. A MySQL env holds
 * the password, so it is 0600; otherwise the umask decides, as for any file an operator writes.
 */
export function writeSandboxEnv(out: string, input: SandboxEnvInput): void {
  const text = sandboxEnvText(input);
  parseEnv(out, text);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.tmp.${process.pid}`);
  // wx: never write through a file or symlink someone left at the temporary name.
  writeFileSync(tmp, text, { flag: 'wx', mode: input.database.driver === 'mysql' ? 0o600 : 0o666 });
  try {
    renameSync(tmp, out);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** The input from scripts/sandbox.sh: the SANDBOX_* values it gives every sandbox/ module. */
export function inputFromEnvironment(env: NodeJS.ProcessEnv): SandboxEnvInput {
  const need = (name: string): string => {
    const value = env[`SANDBOX_${name}`];
    if (value === undefined) throw new Error(`SANDBOX_${name} is not set`);
    return value;
  };
  const deployDir = need('DEPLOY');
  const driver = need('DRIVER');
  if (driver !== 'sqlite3' && driver !== 'mysql') throw new Error(`SANDBOX_DRIVER must be sqlite3 or mysql, not ${driver}`);
  const database: SandboxEnvInput['database'] =
    driver === 'mysql'
      ? {
          driver,
          host: need('MYSQL_SERVICE'),
          port: Number(need('MYSQL_PORT')),
          databaseName: need('MYSQL_DATABASE'),
          username: need('MYSQL_USER'),
          // Exactly the file's bytes: the password has no trailing newline to strip.
          password: readFileSync(path.join(deployDir, MYSQL_PASSWORD_FILE), 'utf8'),
        }
      : { driver };
  return { envName: need('ENV_NAME'), privateKey: need('KEY'), user: need('SSH_USER'), host: need('SSH_HOST'), port: Number(need('SSH_PORT')), deployDir, database };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const out = process.argv[2];
    if (!out || process.argv.length > 3) throw new Error('usage: sandbox-env.ts OUT_FILE');
    writeSandboxEnv(out, inputFromEnvironment(process.env));
  } catch (error) {
    process.stderr.write(`${error instanceof EnvError ? error.message : `sandbox-env.ts: ${(error as Error).message}`}\n`);
    process.exitCode = 1;
  }
}
