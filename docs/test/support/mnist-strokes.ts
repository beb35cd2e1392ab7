// Turns a known MNIST digit into mouse strokes a person could draw: every row's runs of bright pixels
// become short horizontal strokes, traced over the playground's canvas with playwright's mouse.
import type { Page } from 'playwright-core';

/** One stroke in digit pixel coordinates (0..27), from `x0` to `x1` along row `y`. */
export interface Stroke {
  y: number;
  x0: number;
  x1: number;
}

/** Runs of pixels at or above `threshold` in each row of a 28x28 digit (values in [0, 1]). */
export function digitStrokes(pixels: ArrayLike<number>, threshold = 0.5): Stroke[] {
  const strokes: Stroke[] = [];
  for (let y = 0; y < 28; y++) {
    let start = -1;
    for (let x = 0; x <= 28; x++) {
      const on = x < 28 && pixels[y * 28 + x] >= threshold;
      if (on && start < 0) start = x;
      if (!on && start >= 0) {
        strokes.push({ y, x0: start, x1: x - 1 });
        start = -1;
      }
    }
  }
  return strokes;
}

/** Draws the strokes with the mouse over the element matching `selector` (the digit fills it). */
export async function drawStrokes(page: Page, selector: string, strokes: readonly Stroke[]): Promise<void> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const at = (v: number, size: number) => ((v + 0.5) * size) / 28;
  for (const s of strokes) {
    const y = box.y + at(s.y, box.height);
    await page.mouse.move(box.x + at(s.x0, box.width), y);
    await page.mouse.down();
    await page.mouse.move(box.x + at(s.x1, box.width), y, {
      steps: Math.max(1, Math.ceil((s.x1 - s.x0) / 2)),
    });
    await page.mouse.up();
  }
}
