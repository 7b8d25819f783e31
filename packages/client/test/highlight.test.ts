import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHighlight } from '../src/index.js';

test('only <mark> becomes markup; everything else is unescaped text', () => {
  assert.deepEqual(parseHighlight('say &lt;b&gt;<mark>hi</mark>&lt;/b&gt; &amp; &#x263A;'), [
    { text: 'say <b>', mark: false },
    { text: 'hi', mark: true },
    { text: '</b> & ☺', mark: false },
  ]);
  assert.deepEqual(parseHighlight('<script>x</script>'), [{ text: '<script>x</script>', mark: false }]);
  assert.deepEqual(parseHighlight('&#0; &#x110000;'), [{ text: '&#0; &#x110000;', mark: false }]);
});
