import { hash, verify, Algorithm } from '@node-rs/argon2';

// OWASP's minimum for argon2id: m = 19 MiB, t = 2, p = 1.
const options = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash verifies nothing.
    return false;
  }
}

/** A real hash of a random string, verified against for unknown users so both answers cost the same. */
export const dummyHashPromise = (): Promise<string> => hashPassword(crypto.randomUUID());
