// The page's fixed texts in the current dataset's words: "images" or "points", "digits" or the classes,
// "handwriting" or the plane. The page is written for MNIST; after every hello, each text listed here is
// put back to that, or rewritten for another dataset (Fashion-MNIST, a dataset of the plane). (The
// counters' own titles, which carry the set sizes, follow the dataset in live/counters.js.)

const TEXTS = [
  // [selector, attribute (null: the text), (words) => the text for another dataset]
  [".tagline", null, (w) => (w.plane ? "Watch a neural network learn to divide the plane" : "Watch a neural network learn to tell clothes apart")],
  ["[data-testid=purpose-training]", null, (w) => `Each mini-batch of ${w.things} is one gradient-descent step downhill.`],
  [".counters .counter:nth-child(3)", "title", (w) => `Training ${w.things} the network has learned from, counting repeats.`],
  [".counters .counter:nth-child(6)", "title", (w) => `Training throughput: ${w.things} learned from per second.`],
  ["#hidden-count", "title", (w) => `How many hidden layers sit between the ${w.inputs} and the ${w.outputs}.`],
  ["#output-activation", "title", (w) => `The function turning the output layer's weighted sums into the ${w.outputs}' activations.`],
  ["#explain-cost", null, (w) => `Compare the ${w.classCount} outputs with the right class`],
  ["[data-testid=purpose-draw]", null, (w) => (w.plane ? "Click anywhere on the plane: the network classifies that point." : "Test the network on your own drawing.")],
  ["#draw-panel", "aria-label", (w) => (w.plane ? "The plane" : "Draw something")],
  ["#network-view", "aria-label", (w) => `The network: ${w.plane ? "the inputs x₁ and x₂ (a point of the plane)" : "the input image"}, hidden neurons and the ${w.classCount} outputs, one per class. Hover a neuron for its numbers, click to pin it; with the keyboard, arrows choose a neuron, Enter pins it, Escape unpins.`],
];

/** Rewrite the texts for the store's dataset (MNIST: the page's own words). */
export function applyDatasetWords(store, doc = document) {
  const names = store.classNames;
  const digits = names.length === 10 && names.every((n, i) => n === String(i)) && !store.isPlane;
  const plane = !!store.isPlane;
  const w = {
    plane,
    things: plane ? "points" : "images",
    inputs: plane ? "2 inputs (x₁, x₂)" : `${store.sizes[0]} pixels`,
    outputs: `${names.length} classes`,
    classCount: names.length,
  };
  for (const [selector, attr, text] of TEXTS) {
    const node = doc.querySelector(selector);
    if (!node || !text) continue;
    const key = attr ? `original${attr.replace(/[^a-z]/gi, "")}` : "originalText";
    if (node.dataset[key] == null) node.dataset[key] = attr ? node.getAttribute(attr) || "" : node.textContent;
    const value = digits ? node.dataset[key] : text(w);
    if (attr) node.setAttribute(attr, value);
    else if (node.textContent !== value) node.textContent = value;
  }
}
