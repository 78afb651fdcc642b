// `--graph=svg` and `--graph=png`: the DOT of dot.ts laid out by Graphviz compiled to WebAssembly
// (@hpcc-js/wasm-graphviz), so no system Graphviz is needed. This file is imported only for those
// two formats, and the 800 KB of wasm only when it runs: a build never loads it.
import { UsageError } from '../base/errors.ts';

/** The SVG Graphviz lays out for `dot`. */
export async function renderSvg(dot: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot, 'svg');
}

/** How `--graph=png` loads its rasteriser; a test passes another. */
export type PngModuleLoader = () => Promise<{ Resvg: new (svg: string, options?: object) => { render(): { asPng(): Uint8Array } } }>;

/**
 * Graphviz's wasm build has no bitmap output (that needs cairo), so the SVG is rasterised by
 * resvg (@resvg/resvg-js: prebuilt binaries, no build step, the system's fonts). It is an
 * optional dependency: where it is not installed, `--graph=png` says so and how to get it.
 */
export async function renderPng(dot: string, loadResvg: PngModuleLoader = () => import(/* optional */ '@resvg/resvg-js' as string)): Promise<Uint8Array> {
  let resvg: Awaited<ReturnType<PngModuleLoader>>;
  try {
    resvg = await loadResvg();
  } catch {
    throw new UsageError('--graph=png needs the optional package @resvg/resvg-js (npm install @resvg/resvg-js); --graph=svg needs nothing more');
  }
  const svg = await renderSvg(dot);
  // White behind the picture (Graphviz's SVG paints its own white page too), twice the SVG's
  // size: sharp on a laptop screen. resvg reads font files itself, without fontconfig's aliases:
  // where neither Helvetica nor Arial is installed, DejaVu Sans (Debian's default) stands in for
  // them rather than the first serif font it finds.
  const font = { loadSystemFonts: true, sansSerifFamily: 'DejaVu Sans', defaultFontFamily: 'DejaVu Sans' };
  return new resvg.Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font }).render().asPng();
}
