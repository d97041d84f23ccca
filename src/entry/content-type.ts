/**
 * Content-type matching for body logging, by the Kafka Log plugin's rules (the README's "Bodies" section): which media types are parsed into `body_args`,
 * which are logged as text, and which are base64-encoded.
 *
 * @module
 */

/** How a body of a given media type is logged. */
export type BodyKind =
  /** `application/json`: raw text in `body`, the parsed value in `body_args`. */
  | 'json'
  /** `application/x-www-form-urlencoded`: raw text in `body`, the form fields in `body_args`. */
  | 'urlencoded'
  /** `multipart/form-data`: raw body in `body`, fields and file descriptions in `body_args`. */
  | 'multipart'
  /** One of Kong's five text types: raw text in `body`, no `body_args`. */
  | 'text'
  /** Anything else (or no content type): base64 in `body` with `body_base64: true`. */
  | 'binary';

// Kong's exact lists; structured-syntax suffixes such as `+json` are deliberately not matched, as in Kong.
const KINDS: ReadonlyMap<string, BodyKind> = new Map<string, BodyKind>([
  ['application/json', 'json'],
  ['application/x-www-form-urlencoded', 'urlencoded'],
  ['multipart/form-data', 'multipart'],
  ['text/plain', 'text'],
  ['text/html', 'text'],
  ['application/xml', 'text'],
  ['text/xml', 'text'],
  ['application/soap+xml', 'text'],
]);

/** The values most clients send for Kong's types, looked up whole before any parsing. */
const COMMON_CONTENT_TYPES: ReadonlyMap<string, string> = new Map(
  [...KINDS.keys()].flatMap((type) =>
    ['', '; charset=utf-8', '; charset=UTF-8', ';charset=utf-8', ';charset=UTF-8'].map((parameters) => [`${type}${parameters}`, type] as const),
  ),
);

/**
 * The media type of a `Content-Type` value: lower-cased, parameters (`; charset=...`) and surrounding
 * whitespace removed; `''` when there is none.
 */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const common = COMMON_CONTENT_TYPES.get(contentType);
  if (common !== undefined) return common;
  const semicolon = contentType.indexOf(';');
  const type = semicolon === -1 ? contentType : contentType.slice(0, semicolon);
  return type.trim().toLowerCase();
}

/** How a body of `mediaType` (as returned by {@link mediaTypeOf}) is logged. */
export function bodyKindOf(mediaType: string): BodyKind {
  return KINDS.get(mediaType) ?? 'binary';
}
