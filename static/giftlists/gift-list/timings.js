// timings.js: how often the page repeats its own signals and how long it
// believes the others'. The template renders the defaults into data attributes;
// a query parameter may shorten how long others' signals hold on this page (a
// test watching an indicator time out): /lists/1/?typing=1500&editing=3000

const DEFAULTS = {
  typingEvery: 2000, // ms: "typing" at most this often while typing
  typingFor: 6000, // ms another's "typing" holds: a few repeats may be lost
  editingEvery: 5000, // ms: "editing" said again this often while a form is open
  editingFor: 15000, // ms another's "editing" holds without a repeat
};

// Query parameter -> [timing, least, most].
const TUNING = {
  typing: ["typingFor", 500, 60000],
  editing: ["editingFor", 500, 300000],
};

const positive = (value) => Number.isInteger(value) && value > 0;

/** The timings from the root's data attributes, then the query string. */
export function timingsOf(dataset, search) {
  const timings = { ...DEFAULTS };
  for (const name of Object.keys(DEFAULTS)) {
    const value = Number(dataset[name]);
    if (dataset[name] !== undefined && positive(value)) timings[name] = value;
  }
  const params = new URLSearchParams(search);
  for (const [param, [name, least, most]] of Object.entries(TUNING)) {
    const value = Number(params.get(param));
    if (params.has(param) && Number.isInteger(value) && value >= least && value <= most) {
      timings[name] = value;
    }
  }
  return timings;
}
