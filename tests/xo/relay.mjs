// Xen Orchestra's connector (npm xen-api) on a pool's master, fetching a
// member's stats as XO's stats view does (tests/pool/test_pool.py, the
// relay test; docs/POOL.md 7): getResource('/rrd_updates') with the
// member's host object, so the request goes to that host's host.address
// (on a master with pool_relay_domain, <uuid>.<domain>, a name the client's
// /etc/hosts maps to the master), with XO's own task (?task_id=).
//
//   node relay.mjs URL PASSWORD HOST_UUID
//
// Prints one JSON line: {"address": host.address, "legend": [the columns
// of the answer], "rows": n, "task": "success" once XO saw its task
// complete}, or {"error": ...}.
import { createClient } from 'xen-api'

const [url, password, hostUuid] = process.argv.slice(2)
const say = (o) => console.log(JSON.stringify(o))
const step = (s) => console.error('relay.mjs: ' + s)
const timeout = setTimeout(() => {
  say({ error: 'timeout' })
  process.exit(2)
}, 60000)

const xapi = createClient({ url, allowUnauthorized: true, auth: { user: 'root', password } })

try {
  await xapi.connect()
  step('connected')
  await xapi.objectsFetched
  step('objects fetched')
  const host = Object.values(xapi.objects.indexes.type.host ?? {}).find((h) => h.uuid === hostUuid)
  if (!host) throw new Error('no host ' + hostUuid)
  // as XO: start at the host's clock minus ten minutes (whole seconds)
  const now = Math.floor(Date.now() / 1000)
  step('fetching from ' + host.address)
  const response = await xapi.getResource('/rrd_updates', {
    host,
    query: { cf: 'AVERAGE', host: 'true', interval: 5, json: 'true', start: now - 595 },
    task: true,
  })
  // XAPI's JSON has NaN for missing values; XO parses it with JSON5
  step('answered ' + response.statusCode)
  const stats = JSON.parse((await response.body.text()).replace(/-?\b(NaN|Infinity)\b/g, 'null'))
  // the task the master completed for the relayed GET, watched by events
  const task = response.task === undefined ? 'none' : await response.task.then(() => 'success')
  step('task done')
  say({ address: host.address, legend: stats.meta.legend, rows: stats.data.length, task })
  await xapi.disconnect()
} catch (e) {
  say({ error: String(e && e.stack ? e.stack : e) })
  process.exit(1)
}
clearTimeout(timeout)
process.exit(0)
