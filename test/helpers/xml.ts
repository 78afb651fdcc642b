// A small checker of well-formed XML, enough for Graphviz's SVG (no XML parser is a dependency):
// one root element, every tag closed in order, attributes quoted, no stray `<` or `&` in text.
// Returns the elements as a flat list, to query without a DOM.

export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  /** The text directly inside it (entities left as written). */
  text: string;
  parent: XmlElement | undefined;
}

const entity = /&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);/g;

/** Parses `xml`, throwing an Error that names the first thing that is not well-formed. */
export function parseXml(xml: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const open: XmlElement[] = [];
  let roots = 0;
  let at = 0;
  const text = (chunk: string) => {
    if (chunk.replace(entity, '').includes('&')) throw new Error(`a bare & in text at ${at}`);
    if (open.length > 0) open[open.length - 1]!.text += chunk;
    else if (chunk.trim() !== '') throw new Error(`text outside the root element at ${at}`);
  };
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    if (lt < 0) {
      text(xml.slice(at));
      break;
    }
    text(xml.slice(at, lt));
    at = lt;
    const rest = xml.slice(at);
    const skip = /^<\?xml[^]*?\?>|^<!--[^]*?-->|^<!DOCTYPE[^<>]*>/.exec(rest);
    if (skip) {
      if (skip[0].startsWith('<!--') && skip[0].slice(4, -3).includes('--')) throw new Error(`-- inside a comment at ${at}`);
      at += skip[0].length;
      continue;
    }
    const close = /^<\/([A-Za-z_][\w:.-]*)\s*>/.exec(rest);
    if (close) {
      const top = open.pop();
      if (top?.name !== close[1]) throw new Error(`</${close[1]}> at ${at} closes <${top?.name ?? 'nothing'}>`);
      at += close[0].length;
      continue;
    }
    const tag = /^<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(rest);
    if (!tag) throw new Error(`a malformed tag at ${at}: ${rest.slice(0, 40)}`);
    const attributes = new Map<string, string>();
    for (const [, name, doubleQuoted, singleQuoted] of tag[2]!.matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      if (attributes.has(name!)) throw new Error(`attribute ${name} twice in <${tag[1]}> at ${at}`);
      attributes.set(name!, doubleQuoted ?? singleQuoted ?? '');
    }
    if (open.length === 0 && ++roots > 1) throw new Error(`a second root element <${tag[1]}> at ${at}`);
    const element: XmlElement = { name: tag[1]!, attributes, text: '', parent: open[open.length - 1] };
    elements.push(element);
    if (tag[3] !== '/') open.push(element);
    at += tag[0].length;
  }
  if (open.length > 0) throw new Error(`<${open[open.length - 1]!.name}> is never closed`);
  if (roots === 0) throw new Error('no root element');
  return elements;
}
