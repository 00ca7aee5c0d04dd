// The server's limits on the settings, as `hello` sends them (docs/protocol.md: `limits`, each
// [min, max]), and the page's checks against them. The page never hard-codes a limit: until the first
// `hello` there is nothing to check against, so every check passes and the server has the last word.

/** The logarithmic η controls start here: the server's lower bound (0) is exclusive and log 0 is −∞. */
const LR_FLOOR = 0.001;

/** [min, max] of one setting, or null before the first hello (or when the server does not send it). */
export function limit(limits, name) {
  return limits?.[name] ?? null;
}

/** The range the η controls span: the server's, from LR_FLOOR up. */
export function learningRateSpan(limits) {
  const range = limit(limits, "learning_rate");
  return range && [Math.max(range[0], LR_FLOOR), range[1]];
}

/** Why a learning rate is refused (the lower bound is exclusive), or null. */
export function learningRateProblem(limits, lr) {
  const range = limit(limits, "learning_rate");
  if (!range || (lr > range[0] && lr <= range[1])) return null;
  return `The learning rate must be above ${range[0]} and at most ${range[1]}.`;
}

/** Why a mini-batch size is refused, or null. */
export function batchSizeProblem(limits, size) {
  const range = limit(limits, "batch_size");
  if (!range || wholeIn(size, range)) return null;
  return `The mini-batch size must be a whole number from ${range[0]} to ${range[1]}.`;
}

/** Why these hidden-layer sizes are refused, or null. */
export function neuronsProblem(limits, hidden) {
  const range = limit(limits, "neurons");
  if (!range || hidden.every((n) => wholeIn(n, range))) return null;
  return `Each hidden layer needs ${range[0]}–${range[1]} neurons.`;
}

/** Why a seed is refused, or null. */
export function seedProblem(limits, seed) {
  const range = limit(limits, "seed");
  if (!range || wholeIn(seed, range)) return null;
  return `The seed must be a whole number from ${range[0]} to ${range[1]}.`;
}

const WHOLE = { batch_size: true, neurons: true, seed: true, hidden_layers: true, custom_points: true };

/** What readNumber (lib/number-input.js) checks a field of setting `name` against: the server's range
 * ({} before the first hello: the server has the last word), whole or not, η's exclusive lower bound. */
export function rangeOf(limits, name) {
  const range = limit(limits, name);
  const spec = { whole: !!WHOLE[name], above: name === "learning_rate" };
  return range ? { ...spec, min: range[0], max: range[1] } : spec;
}

/** Set a number input's min and max (nothing when the range is unknown). */
export function applyRange(input, range) {
  if (!range) return;
  input.min = String(range[0]);
  input.max = String(range[1]);
}

function wholeIn(n, [lo, hi]) {
  return Number.isInteger(n) && n >= lo && n <= hi;
}
