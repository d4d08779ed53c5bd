// A test tool: the reference guest's kernel path (building the image on a cache miss).

import { ensureImage } from '../image/paths.js';

export async function kernelOf(): Promise<string> {
  return (await ensureImage({ quiet: true })).kernel;
}
