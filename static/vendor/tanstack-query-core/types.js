// src/types.ts
/* istanbul ignore file */
const dataTagSymbol = Symbol();
const dataTagErrorSymbol = Symbol();
const unsetMarker = Symbol();
export { dataTagErrorSymbol, dataTagSymbol, unsetMarker };

//# sourceMappingURL=types.js.map