import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containsNul, isBlankText } from '../src/index.js';

test('text made only of invisible characters is blank', () => {
  for (const s of ['', ' ', '\t\n', '\u0000', '\u0000\u0000', '\u200b', '\u200b\u200c\u200d', '\u2060', '\ufeff', '\u00ad', '\u202e', '\u3164', '\u2800', '\ufe0f', '\u3000', '\u2028']) {
    assert.equal(isBlankText(s), true, JSON.stringify(s));
  }
});

test('anything visible is not blank, invisible characters around it are kept', () => {
  for (const s of ['a', ' x ', '👩‍👩‍👧', '❤️', '\u200bhi', 'é', 'e\u0301', '中', '0']) {
    assert.equal(isBlankText(s), false, JSON.stringify(s));
  }
  assert.equal(containsNul('a\u0000b'), true);
  assert.equal(containsNul('ab'), false);
});
