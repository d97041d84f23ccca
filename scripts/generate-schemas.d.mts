// Types of scripts/generate-schemas.mjs: the files of schemas/, generated from the package's ready-made schemas.

/** The ready-made schema text of a type, as the package's `kongLogEntrySchema` gives it. */
type SchemaText = (type: 'AVRO' | 'JSON' | 'PROTOBUF') => string;

/** The files of schemas/, name to text. */
export function schemaFiles(kongLogEntrySchema: SchemaText): Record<string, string>;
/** Writes the files of schemas/ into `dir`; returns the paths written. */
export function writeSchemaFiles(dir: string, kongLogEntrySchema: SchemaText): string[];
