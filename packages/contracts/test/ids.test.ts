import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalUuid, isCanonicalUuid, uuidText } from '../src/index.js';

const id = '0b6f3c1e-7a2d-4c8e-9f10-2a3b4c5d6e7f';

test('a UUID in any case folds to one lower-case spelling', () => {
  for (const form of [id, id.toUpperCase(), '0B6f3C1e-7A2d-4C8e-9F10-2a3B4c5D6e7F']) {
    assert.equal(canonicalUuid(form), id, form);
    assert.equal(uuidText().parse(form), id, form);
  }
  assert.equal(isCanonicalUuid(id), true);
  assert.equal(isCanonicalUuid(id.toUpperCase()), false);
});

test('other notations and non-UUIDs are refused, not guessed at', () => {
  for (const bad of [`{${id}}`, `urn:uuid:${id}`, id.replaceAll('-', ''), ` ${id}`, `${id}\n`, `${id}0`, 'r-1', '', 'g'.repeat(8) + id.slice(8)]) {
    assert.equal(canonicalUuid(bad), undefined, JSON.stringify(bad));
    assert.equal(uuidText().safeParse(bad).success, false, JSON.stringify(bad));
    assert.equal(isCanonicalUuid(bad), false);
  }
});
