export { canonicalUuid, isCanonicalUuid, uuidText } from './ids.js';
export { containsNul, isBlankText, searchForm } from './text.js';
