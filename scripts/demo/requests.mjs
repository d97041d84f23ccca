// The requests the demo sends: one of each kind of exchange a real service sees.

/** A 1x1 transparent PNG: a real binary file for the multipart upload. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Each request: what it shows, and how to send it (fetch init). */
export function demoRequests() {
  const form = new FormData();
  form.append('user', '42');
  form.append('avatar', new Blob([PNG], { type: 'image/png' }), 'avatar.png');
  return [
    {
      label: 'read a user (query string, auth header)',
      path: '/users/42?fields=name&fields=email&verbose',
      init: { headers: { authorization: 'Bearer demo-token', 'x-user': 'ada' } },
    },
    {
      label: 'create a user (JSON body)',
      path: '/users',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user': 'ada' },
        body: JSON.stringify({ name: 'Grace Hopper', email: 'grace@example.com', password: 's3cret!' }),
      },
    },
    {
      label: 'sign up (urlencoded form)',
      path: '/signup',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=Alan&password=hunter2&newsletter=yes',
      },
    },
    { label: 'upload an avatar (multipart, with a file)', path: '/avatars', init: { method: 'POST', body: form } },
    { label: 'download a PDF (binary response)', path: '/files/report.pdf', init: {} },
    { label: 'a slow report (300 ms handler)', path: '/reports/slow', init: {} },
    { label: 'a page that does not exist (404)', path: '/nowhere', init: {} },
    { label: 'a handler that throws (500)', path: '/checkout', init: {} },
  ];
}

/**
 * Sends the requests one after another, each with an `x-request-id` of this run (it becomes `request.id`, so
 * the reader can tell this run's entries from older ones on the same topic). Returns what was sent.
 */
export async function sendRequests(baseUrl, runId, onSent) {
  const sent = [];
  for (const [index, request] of demoRequests().entries()) {
    const id = `${runId}-${index + 1}`;
    const init = { ...request.init, headers: { ...request.init.headers, 'x-request-id': id } };
    const response = await fetch(`${baseUrl}${request.path}`, init);
    await response.arrayBuffer(); // read the body to the end, as a client would
    const item = { ...request, id, method: init.method ?? 'GET', status: response.status };
    sent.push(item);
    onSent(item);
  }
  return sent;
}
