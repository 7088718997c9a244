// Xen Orchestra's connector (npm xen-api) on a pool's master, as XO is
// used there (tests/pool/test_pool.py): what the pool looks like from XO,
// then whether a change made on a member reaches XO through the master's
// events.
//
//   node pool.mjs URL PASSWORD VM_UUID NAME
//
// Prints one JSON line when connected and the objects are fetched:
//   {"hosts": {uuid: name_label}, "vms": {uuid: {"name_label", "resident_on"
//    (a host uuid or null), "power_state"}}}
// then waits (60 s at most) until the VM VM_UUID is named NAME in XO's
// cache, kept by event.from, and prints {"renamed": true} (or an error).
import { createClient } from 'xen-api'

const [url, password, vmUuid, name] = process.argv.slice(2)
const say = (o) => console.log(JSON.stringify(o))
const timeout = setTimeout(() => {
  say({ error: 'timeout' })
  process.exit(2)
}, 60000)

const xapi = createClient({ url, allowUnauthorized: true, auth: { user: 'root', password } })

const byType = (type) => Object.values(xapi.objects.indexes.type[type] ?? {})
const hostUuid = (ref) => {
  const h = xapi.objects.all[ref]
  return h && h.$type === 'host' ? h.uuid : null
}

try {
  await xapi.connect()
  await xapi.objectsFetched
  const hosts = {}
  for (const h of byType('host')) hosts[h.uuid] = h.name_label
  const vms = {}
  for (const v of byType('VM')) {
    if (v.is_a_template || v.is_control_domain) continue
    vms[v.uuid] = { name_label: v.name_label, resident_on: hostUuid(v.resident_on),
      power_state: v.power_state }
  }
  say({ hosts, vms })
  for (;;) {
    const v = byType('VM').find((x) => x.uuid === vmUuid)
    if (v && v.name_label === name) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  say({ renamed: true })
  await xapi.disconnect()
} catch (e) {
  say({ error: String(e && e.stack ? e.stack : e) })
  process.exit(1)
}
clearTimeout(timeout)
process.exit(0)
