// Module resolution hooks (static-files.mjs): static/realtime/... is the app's.

const SITE = new URL("../../static/realtime/", import.meta.url).href;
const APP = new URL("../../realtime/static/realtime/", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL && /^\.{1,2}\//.test(specifier)) {
    const url = new URL(specifier, context.parentURL).href;
    if (url.startsWith(SITE)) return nextResolve(APP + url.slice(SITE.length), context);
  }
  return nextResolve(specifier, context);
}
