// A small extension, run inside an isolated-vm isolate by jshost.js. It
// sees only `host` (the sandbox-side proxy bound to its invocation token)
// and its input: no require, no process, no OpenTelemetry.
async function main(host, input) {
  const notes = JSON.parse(await host.readFile(input.workspace + '/notes.json'));
  let refused = null;
  try {
    await host.readFile(input.workspace + '/secret.txt');
  } catch (e) {
    refused = e.code;
  }
  const res = await host.fetch(input.api + '/v1/forecast?city=' + notes.city, { method: 'GET' });
  const rows = await host.query('SELECT city, temp FROM forecasts WHERE city = ?', [notes.city]);
  return { city: notes.city, refused, status: res.status, forecast: res.body, rows };
}
