import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DOVECOT = '/usr/sbin/dovecot';

/** Dovecot is a real IMAP server; CI installs it (.ci/run), elsewhere the IMAP tests are skipped without it. */
export const DOVECOT_AVAILABLE = existsSync(DOVECOT) && process.getuid?.() === 0;
if (!DOVECOT_AVAILABLE && process.env.CI)
  throw new Error('Dovecot (dovecot-imapd) and root are required in CI for the IMAP tests');

function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user ${name}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface ImapServer {
  host: string;
  port: number;
  password: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a throwaway Dovecot on 127.0.0.1 with plain-text login, any user name and one password,
 * and Maildir mailboxes in a temporary folder.
 */
export async function startDovecot(): Promise<ImapServer> {
  const dir = mkdtempSync(join(tmpdir(), 'palier-imap-'));
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub));
  // Dovecot will not open mailboxes as root: they belong to its own system user.
  const owner = systemUser('dovecot');
  chmodSync(dir, 0o755);
  chownSync(join(dir, 'mail'), owner.uid, owner.gid);
  const port = await freePort();
  const password = 'mailbox-pass-7f3a';
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = ${owner.uid}
passdb {
  driver = static
  args = password=${password}
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`,
  );
  // The master forks into the background and keeps its output open: do not wait on pipes.
  const started = spawnSync(DOVECOT, ['-c', conf], { stdio: 'ignore', timeout: 10_000 });
  if (started.status !== 0) throw new Error(`dovecot did not start (status ${started.status}); see ${dir}/dovecot.log`);
  // Wait until the login service accepts connections.
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createServer();
      socket.once('error', () => resolve(true));
      socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: '127.0.0.1',
    port,
    password,
    stop() {
      // Every process of this instance names its configuration file on its command line.
      spawnSync('pkill', ['-TERM', '-f', conf], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
