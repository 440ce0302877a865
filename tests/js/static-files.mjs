// The pages import the realtime client where the browser finds it, under
// /static/realtime/ (the app's realtime/static/ and the site's static/ are one
// tree once served); in the repository it lives in the app. Import this first,
// then the pages' modules dynamically: their imports are found the same way.

import { register } from "node:module";

register("./static-hooks.mjs", import.meta.url);
