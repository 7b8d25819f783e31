export { canonicalUuid, isCanonicalUuid, uuidText } from './ids.js';
export { containsNul, isBlankText } from './text.js';
