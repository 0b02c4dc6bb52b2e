import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Money } from '../../src/domain/money.ts';
import { parseAmount } from './amounts.ts';

/**
 * Reading and writing ISO 20022 XML. Reading is strict about structure and names the element at
 * fault; writing escapes every value and keeps it within the schema's length limits.
 */

/** A bank message or statement that cannot be read: the message names the message type and the element or line. */
export class Iso20022FormatError extends Error {
  override name = 'Iso20022FormatError';
  constructor(
    message: string,
    /** The ISO 20022 status reason a bank would give for it (FF01 invalid file format unless more specific). */
    readonly reasonCode = 'FF01',
  ) {
    super(message);
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false, // "0001", "12.50" and "true" stay exactly as written
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: true, // decodes numeric character references (&#235;)
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 64,
});

type XmlNode = string | { readonly [name: string]: XmlNode | readonly XmlNode[] };

/** One element of a parsed document, with the path used in error messages (e.g. `BkToCstmrStmt/Stmt[2]/Ntry[1]/Amt`). */
export class XmlElement {
  constructor(
    private readonly what: string,
    readonly path: string,
    private readonly node: XmlNode,
  ) {}

  /** An error naming this element. */
  error(problem: string, reasonCode?: string): Iso20022FormatError {
    return new Iso20022FormatError(`${this.what}: ${this.path}: ${problem}`, reasonCode);
  }

  children(name: string): XmlElement[] {
    if (typeof this.node === 'string' || !Object.hasOwn(this.node, name)) return [];
    const value = this.node[name]!;
    if (!Array.isArray(value)) return [new XmlElement(this.what, `${this.path}/${name}`, value as XmlNode)];
    return value.map((v: XmlNode, i: number) => new XmlElement(this.what, `${this.path}/${name}[${i + 1}]`, v));
  }

  /** The child element, if present; more than one is an error. */
  optional(name: string): XmlElement | undefined {
    const found = this.children(name);
    if (found.length > 1) throw this.error(`<${name}> occurs ${found.length} times, expected at most once`);
    return found[0];
  }

  required(name: string, reasonCode?: string): XmlElement {
    const found = this.optional(name);
    if (!found) throw new Iso20022FormatError(`${this.what}: ${this.path}/${name} is missing`, reasonCode);
    return found;
  }

  has(name: string): boolean {
    return typeof this.node !== 'string' && Object.hasOwn(this.node, name);
  }

  /** The element's text ('' when empty); an element with child elements has no text. */
  text(): string {
    if (typeof this.node === 'string') return this.node;
    const text = Object.hasOwn(this.node, '#text') ? this.node['#text'] : undefined;
    if (text !== undefined) return String(text);
    if (Object.keys(this.node).some((key) => !key.startsWith('@'))) throw this.error('has child elements where a value was expected');
    return '';
  }

  /** The text of a required child, which must not be empty. */
  requiredText(name: string, reasonCode?: string): string {
    const child = this.required(name, reasonCode);
    const text = child.text();
    if (text === '') throw child.error('is empty', reasonCode);
    return text;
  }

  optionalText(name: string): string | undefined {
    const text = this.optional(name)?.text();
    return text === '' ? undefined : text;
  }

  /** The same element under another path (for messages read from a sub-tree). */
  relocated(path: string): XmlElement {
    return new XmlElement(this.what, path, this.node);
  }

  attribute(name: string): string | undefined {
    if (typeof this.node === 'string') return undefined;
    const value = Object.hasOwn(this.node, `@${name}`) ? this.node[`@${name}`] : undefined;
    return typeof value === 'string' ? value : undefined;
  }
}

export interface ExpectedDocument {
  /** Name used in error messages, e.g. "camt.053". */
  readonly what: string;
  /** The namespace the Document must be in (any version of the message matches, e.g. /camt\.053\.001\.\d\d$/). */
  readonly namespace: RegExp;
  /** The message element under Document, e.g. BkToCstmrStmt. */
  readonly root: string;
}

/** The namespace of the document element (`<Document xmlns="…">` or a prefixed one). */
export function documentNamespace(xml: string): string | undefined {
  const start = /<(?:([A-Za-z_][\w.-]*):)?Document[\s>/]/.exec(xml);
  if (!start) return undefined;
  const end = xml.indexOf('>', start.index);
  const tag = xml.slice(start.index, end === -1 ? undefined : end);
  const attribute = start[1] ? `xmlns:${start[1]}` : 'xmlns';
  const match = new RegExp(`\\s${attribute.replace('.', '\\.')}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return match ? (match[2] ?? match[3]) : undefined;
}

/** Parses a well-formed ISO 20022 document and returns its message element; throws Iso20022FormatError. */
export function readDocument(input: string | Buffer, expected: ExpectedDocument): XmlElement {
  const xml = (typeof input === 'string' ? input : input.toString('utf8')).replace(/^\uFEFF/, '');
  if (xml.trim() === '') throw new Iso20022FormatError(`${expected.what}: the document is empty`);
  if (/<!DOCTYPE/i.test(xml)) throw new Iso20022FormatError(`${expected.what}: a DOCTYPE is not allowed in a bank message`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    throw new Iso20022FormatError(`${expected.what}: malformed XML at line ${line}${col ? `, column ${col}` : ''}: ${msg}`);
  }
  const parsed = parser.parse(xml) as Record<string, XmlNode>;
  const roots = Object.keys(parsed);
  if (roots.length !== 1 || roots[0] !== 'Document') {
    throw new Iso20022FormatError(`${expected.what}: the root element is <${roots.join('>, <')}>, expected <Document>`);
  }
  const namespace = documentNamespace(xml);
  if (namespace === undefined || !expected.namespace.test(namespace)) {
    throw new Iso20022FormatError(`${expected.what}: Document namespace is ${namespace ? `"${namespace}"` : 'missing'}, expected ${expected.what}`);
  }
  const document = new XmlElement(expected.what, 'Document', parsed.Document!);
  return document.required(expected.root).relocated(expected.root);
}

// ---- writing ----

/** Characters XML 1.0 does not allow, lone surrogates included. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * A text value ready for an element: characters XML cannot carry become spaces, surrounding space
 * is trimmed, and it is cut to `maxLength` characters (code points, as the XSD counts them).
 * Returns '' when nothing is left (the caller then omits an optional element).
 */
export function cleanText(value: string, maxLength: number): string {
  const cleaned = value.replace(NOT_XML, ' ').trim();
  const codePoints = Array.from(cleaned);
  return codePoints.length <= maxLength ? cleaned : codePoints.slice(0, maxLength).join('').trimEnd();
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** `<name>escaped value</name>`; the value must already be clean and non-empty. */
export function element(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}

/** `<name>escaped, cleaned value</name>`, or '' when the cleaned value is empty. */
export function textElement(name: string, value: string | undefined, maxLength: number): string {
  if (value === undefined) return '';
  const cleaned = cleanText(value, maxLength);
  return cleaned === '' ? '' : element(name, cleaned);
}

export function amountElement(name: string, amount: string, currency: string): string {
  return `<${name} Ccy="${escapeXml(currency)}">${amount}</${name}>`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** ISO dates and times: `CreDtTm` as UTC with milliseconds, dates as YYYY-MM-DD (UTC). */
export function isoDateTime(date: Date): string {
  return date.toISOString();
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The date part (YYYY-MM-DD) of `Dt` or `DtTm` under a DateAndDateTime2Choice element. */
export function dateOf(choice: XmlElement): string {
  const date = choice.optionalText('Dt') ?? choice.optionalText('DtTm')?.slice(0, 10);
  if (date === undefined) throw choice.error('has neither <Dt> nor <DtTm>');
  if (!isValidIsoDate(date)) throw choice.error(`"${date}" is not a date`);
  return date;
}

export function isValidIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** An ActiveOrHistoricCurrencyAndAmount element (`<Amt Ccy="EUR">12.50</Amt>`) in minor units. */
export function amountOf(amount: XmlElement): Money {
  const currency = amount.attribute('Ccy');
  if (currency === undefined) throw amount.error('has no Ccy attribute', 'AM03');
  try {
    return parseAmount(amount.text(), currency);
  } catch (error) {
    throw amount.error((error as Error).message, 'AM12');
  }
}
