// Where alert notifications go: the receiver entries of the configuration, validated; shared with the browser.
import { z } from 'zod';

// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Set by the dashboard for every request; a configured value would break the request or be ignored.
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'connection', 'transfer-encoding']);

const hasNoCredentials = (url: string) => {
  if (!URL.canParse(url)) return true; // the URL check above already reports it
  const u = new URL(url);
  return u.username === '' && u.password === '';
};

const receiverUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .refine(hasNoCredentials, 'must not carry a user name or password (put credentials in headers)');

const name = z.string().trim().min(1, 'must not be empty').max(100);

export const webhookReceiverSchema = z.strictObject({
  type: z.literal('webhook'),
  name,
  url: receiverUrl,
  /** Sent with every request, e.g. Authorization; never shown in delivery records. */
  headers: z
    .record(z.string(), z.string().regex(/^[^\r\n]*$/, 'must be a single line'))
    .superRefine((headers, ctx) => {
      for (const key of Object.keys(headers)) {
        if (!HEADER_NAME.test(key))
          ctx.addIssue({ code: 'custom', path: [key], message: 'must be an HTTP header name' });
        else if (RESERVED_HEADERS.has(key.toLowerCase())) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'is set by the dashboard' });
        }
      }
    })
    .optional(),
});

/** A Slack incoming webhook, or anything that speaks its format (Mattermost, Rocket.Chat). */
export const slackReceiverSchema = z.strictObject({
  type: z.literal('slack'),
  name,
  url: receiverUrl,
});

export const alertmanagerReceiverSchema = z.strictObject({
  type: z.literal('alertmanager'),
  name,
  /** The base URL, e.g. http://alertmanager:9093; alerts are posted to /api/v2/alerts under it. */
  url: receiverUrl,
});

export const receiverSchema = z.discriminatedUnion('type', [
  webhookReceiverSchema,
  slackReceiverSchema,
  alertmanagerReceiverSchema,
]);

export type Receiver = z.infer<typeof receiverSchema>;
export type ReceiverType = Receiver['type'];
