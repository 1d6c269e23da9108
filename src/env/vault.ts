// ansible-vault strings in the environment file: recognised, checked for shape, and
// written out for Ansible to decrypt. The tool never holds a vault password, so it can
// only check the format; whether the string decrypts is Ansible's to say at run time.

export const VAULT_MARK = '$ANSIBLE_VAULT;';

/** `$ANSIBLE_VAULT;1.1;AES256` or, with a vault id, `$ANSIBLE_VAULT;1.2;AES256;<id>`. */
const HEADER = /^\$ANSIBLE_VAULT;(?:1\.1;AES256|1\.2;AES256;[\x21-\x3a\x3c-\x7e]+)$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
/** The width ansible-vault prints the body at. */
const WIDTH = 80;

/** Indentation before the mark is allowed: ansible-vault encrypt_string prints the string indented. */
export function isVaulted(text: string): boolean {
  return text.trimStart().startsWith(VAULT_MARK);
}

/**
 * The header line and the hex body, with the indentation and line breaks of a pasted
 * `encrypt_string` output taken away.
 */
function parts(text: string): { header: string; body: string } {
  const [header = '', ...rest] = text.trim().split('\n').map((line) => line.trim());
  return { header, body: rest.join('') };
}

/** Why `text` (which starts with $ANSIBLE_VAULT;) is not an ansible-vault string, or undefined. Never quotes it. */
export function vaultProblem(text: string): string | undefined {
  const { header, body } = parts(text);
  if (!HEADER.test(header)) return 'its first line must be "$ANSIBLE_VAULT;1.1;AES256" or "$ANSIBLE_VAULT;1.2;AES256;<vault id>"';
  if (body === '') return 'has nothing after the header line; copy the whole ansible-vault encrypt_string output';
  if (!HEX.test(body)) return 'must have only hexadecimal digits after the header line, as ansible-vault encrypt_string prints them';
  // The body is the hex of "salt\nhmac\nciphertext", each hex again (a SHA-256 HMAC, AES blocks).
  const [salt = '', hmac = '', ciphertext = '', ...extra] = Buffer.from(body, 'hex').toString('latin1').split('\n');
  const whole = extra.length === 0 && HEX.test(salt) && /^[0-9a-f]{64}$/.test(hmac) && HEX.test(ciphertext) && ciphertext.length % 32 === 0;
  return whole ? undefined : 'is cut short or damaged (no salt, HMAC and ciphertext in it); copy the whole ansible-vault encrypt_string output';
}

/** The form ansible-vault writes: the header, then the body in lines of 80. */
export function canonicalVault(text: string): string {
  const { header, body } = parts(text);
  const lines = [header];
  for (let i = 0; i < body.length; i += WIDTH) lines.push(body.slice(i, i + WIDTH));
  return lines.join('\n');
}
