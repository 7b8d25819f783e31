import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword, PasswordChecker } from '../src/passwords.js';

test('scrypt hashes carry their parameters and salt, and verify only the right password', async () => {
  const h = await hashPassword('pässwörd 🦊', 10);
  assert.match(h, /^scrypt\$10\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(h, await hashPassword('pässwörd 🦊', 10), 'salted');
  assert.equal(await verifyPassword('pässwörd 🦊', h), true);
  assert.equal(await verifyPassword('pässwörd 🦊'.normalize('NFD'), h), true, 'normalized before hashing');
  assert.equal(await verifyPassword('password', h), false);
});

test('a hash made at another cost still verifies (parameters are read from the hash)', async () => {
  const old = await hashPassword('secret-one', 11);
  assert.equal(await new PasswordChecker(12).check('secret-one', old), true);
});

test('unreadable stored hashes are a plain false, never a throw', async () => {
  for (const bad of ['', 'plain', 'scrypt$99$8$1$AAAA$BBBB', 'scrypt$10$8$1$AAAA$short', 'bcrypt$10$8$1$a$b']) {
    assert.equal(await verifyPassword('x', bad), false, bad);
  }
});

test('an unknown user costs a hash verification too, and is always refused', async () => {
  const checker = new PasswordChecker(10);
  assert.equal(await checker.check('anything', undefined), false);
});

test('a hash made with older parameters is rehashed at the current cost; a current one is left alone', async () => {
  const checker = new PasswordChecker(11);
  const old = await hashPassword('secret-two', 10);
  const upgraded = await checker.rehash('secret-two', old);
  assert.match(upgraded ?? '', /^scrypt\$11\$8\$1\$/);
  assert.equal(await verifyPassword('secret-two', upgraded!), true);
  assert.equal(await checker.rehash('secret-two', upgraded!), undefined);
  assert.match((await checker.rehash('secret-two', 'scrypt$11$4$1$AAAA$BBBB')) ?? '', /^scrypt\$11\$8\$1\$/, 'another r counts as older too');
});
