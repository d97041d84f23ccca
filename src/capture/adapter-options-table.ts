/**
 * The adapters' options as the README's table shows them (`npm run docs:options`): one row per option of
 * {@link KafkaLogAdapterOptions}, entry options included, with the Kong setting it stands for where there is one.
 * Defaults come from the options' rules. Pure data.
 *
 * @module
 */

import { ENTRY_OPTIONS } from '../entry/check-options.js';
import { type OptionOnlyRow, type OptionsTableRow, optionsTableOf } from '../options/kong-table.js';
import { ADAPTER_OPTIONS, type KafkaLogAdapterOptions } from './adapter-options.js';

const ROWS: { readonly [K in keyof Required<KafkaLogAdapterOptions<unknown>>]: Omit<OptionOnlyRow, 'option'> } = {
  sink: { defaultText: 'required', meaning: 'where entries go: a `KafkaLogPublisher`, or any object with `publish(entry, meta?)` (and optionally ' +
    '`reportError(error)`, `skipped(reason, count)`)' },
  logRequestBody: {
    meaning:
      'log request bodies (`body`, `body_args`, ...): `true`, or `(entry, request) => boolean` decided once the response is complete (see [Bodies](#bodies))',
  },
  logResponseBody: { meaning: 'log response bodies, beyond Kong: `true`, or `(entry, request) => boolean`' },
  maxBodySize: { meaning: 'longest body logged, bytes; longer ones are cut and marked `body_truncated`' },
  maxJsonDepth: { meaning: 'deepest JSON nesting parsed into `body_args`; deeper bodies count as parse failures' },
  bodyParseFailure: { meaning: "a body of a parsed type that does not parse: `'skip-entry'` (Kong: not sent) or `'keep'` (sent with `body_args_error`)" },
  redactHeaders: { meaning: 'header names whose values are replaced, in requests and responses; a list replaces the default' },
  redactQueryArgs: { meaning: 'query arguments whose values are replaced, in `querystring` and in `uri`, `url`, `upstream_uri`' },
  redactBodyFields: { meaning: 'dotted paths into `body_args` whose values are replaced' },
  redactedValue: { meaning: 'the replacement text' },
  maxHeaders: { kongNote: '`lua_max_req_headers` (kong.conf)', meaning: 'most headers kept per request or response' },
  maxArgs: { kongNote: '`lua_max_uri_args` (kong.conf)', meaning: 'most query arguments kept' },
  trustProxy: {
    kongNote: '`trusted_ips` (kong.conf)',
    meaning: 'proxies trusted for `X-Forwarded-For` (`client_ip`): `true`, a hop count, addresses or CIDR ranges, or a function',
  },
  customFields: { kongNote: '`custom_fields_by_lua`', meaning: 'custom fields: dotted key → function or JavaScript expression string (see [Custom ' +
    'fields](#custom-fields))' },
  requestIdHeader: { defaultText: '`x-request-id`', meaning: 'header holding the request id (`request.id`); `false` for none' },
  generateRequestId: {
    meaning: '`request.id` when the request has none: `true` a random UUID v4, `(request) => string` your own, `false` none (see [Request ids](#request-ids))',
  },
  echoRequestIdHeader: {
    kongNote: "Kong's `X-Kong-Request-Id`",
    defaultText: '`false`',
    meaning: 'response header that hands `request.id` back to the client, e.g. `X-Request-Id`',
  },
  correlationIdHeader: { kongNote: 'the `correlation-id` plugin', defaultText: 'none', meaning: 'header whose value becomes `correlation_id`' },
  traceparent: { kongNote: 'a tracing plugin', meaning: 'write `trace_id` from the tracing headers and the active OpenTelemetry span (see [Trace ' +
    'ids](#trace-ids))' },
  route: { meaning: '`(request) => route object`, replacing what the adapter found' },
  service: { meaning: "`(request) => service object` (Kong's `service`)" },
  consumer: { meaning: "`(request) => consumer object` (Kong's `consumer`)" },
  authenticatedEntity: { meaning: '`(request) => credential` (`authenticated_entity`)' },
  workspace: { meaning: "Kong's `workspace` id, on every entry" },
  workspaceName: { meaning: "Kong's `workspace_name`, on every entry" },
  publishMeta: { meaning: '`(entry, request) => { topic?, key?, headers? }`: routing of one entry' },
  skip: { meaning: '`(request) => boolean` as the request arrives: nothing captured or counted (health checks)' },
  filter: {
    meaning: '`(entry, request) => boolean` after the response: `false` is not published, counted as `filtered` (see [Filters and ' +
      'sampling](#filters-and-sampling))',
  },
  sampleRate: {
    meaning: 'share of entries published after `filter`, 0 to 1, or `(entry, request) => number`; on the trace id when there is one; the rest counted as ' +
      '`sampled_out`',
  },
};

/** Every adapter option, as the README's table shows it. */
export const ADAPTER_OPTIONS_TABLE: readonly OptionsTableRow[] = optionsTableOf(
  Object.entries(ROWS).map(([option, row]) => ({ option, ...row })),
  { ...ADAPTER_OPTIONS, ...ENTRY_OPTIONS },
);
