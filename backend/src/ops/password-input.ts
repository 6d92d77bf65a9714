import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { OpsError } from '../errors.js';

/**
 * The new password for `reset-password`: from NEW_PASSWORD, else from stdin (typed twice,
 * unechoed, on a terminal; the first line of piped input otherwise). Never from argv,
 * which any local user can read in `ps`.
 */
export async function readNewPassword(
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const fromEnv = env.NEW_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (process.stdin.isTTY) {
    const first = await askHidden('New password: ');
    const second = await askHidden('Repeat it: ');
    if (first !== second) throw new OpsError('The two passwords differ.');
    return first;
  }
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const line = input.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new OpsError('No password: set NEW_PASSWORD or pipe it on stdin.');
  return line;
}

/** A prompt on stderr whose typed characters are not echoed. */
function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
