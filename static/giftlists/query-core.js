// query-core.js: the pages' one door to @tanstack/query-core, the copy vendored
// in static/vendor/ (make vendor), so that every page shares one instance.
//
// Its ES module build reads process.env.NODE_ENV when it runs (a bundler would
// have replaced it); without a bundler, the page answers "production" here.

globalThis.process ??= { env: { NODE_ENV: "production" } };

export {
  MutationObserver,
  QueryClient,
  QueryObserver,
  hashKey,
} from "../vendor/tanstack-query-core/index.js";
