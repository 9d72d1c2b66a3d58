// The entry point of a figure measured on the bench stack (withStack), run alone.
import { figureMain, type FigureName, type FigureOptions } from './results';
import { removeBenchRoot } from './stack';

/** figureMain that removes the bench stack's folder however the figure ends. */
export function stackFigureMain<T>(name: FigureName, run: (opts: FigureOptions) => Promise<T>): void {
  figureMain(name, async (opts) => {
    try {
      return await run(opts);
    } finally {
      removeBenchRoot();
    }
  });
}
