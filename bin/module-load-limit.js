// Module customization hooks (node:module `register`, run on Node's loader thread) that load at
// most MAX_LOADING modules at a time. Node's ESM loader reads every module of the import graph at
// once: the ~450 files of `kluis serve` held over 300 descriptors, and a process limited to 256
// (`ulimit -n 256`) died with EMFILE before any of Kluis ran (decision 0882).
const MAX_LOADING = 32;

let loading = 0;
/** Loads waiting for a slot; a finishing load hands its slot to the first. */
const waiting = [];

export async function load(url, context, nextLoad) {
  if (loading < MAX_LOADING) loading += 1;
  else await new Promise((resolve) => waiting.push(resolve));
  try {
    return await nextLoad(url, context);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else loading -= 1;
  }
}
