// Xen Orchestra's connector (npm xen-api) on a pool's master, as XO is
// used there (tests/pool/test_pool.py, tests/integration/test_pool_fwd.py):
// what the pool looks like from XO, VMs of members started through the
// master, then whether a change made on a member reaches XO through the
// master's events.
//
//   node pool.mjs URL PASSWORD VM_UUID NAME [START...]
//
// Prints one JSON line when connected and the objects are fetched:
//   {"hosts": {uuid: name_label}, "vms": {uuid: {"name_label", "resident_on"
//    (a host uuid or null), "power_state"}}}
// With START arguments, `start:VM` (VM.start) or `start_on:VM:HOST`
// (VM.start_on; uuids), starts those VMs as XO does (Async calls, their
// tasks watched through events), waits until XO's cache, kept by
// event.from, shows each running, and prints
//   {"started": {vm uuid: {"power_state", "resident_on"}}}
// then waits (60 s at most in all) until the VM VM_UUID is named NAME in
// XO's cache and prints {"renamed": true} (or an error).
import { createClient } from 'xen-api'

const [url, password, vmUuid, name, ...starts] = process.argv.slice(2)
const say = (o) => console.log(JSON.stringify(o))
const timeout = setTimeout(() => {
  say({ error: 'timeout' })
  process.exit(2)
}, 60000)

const xapi = createClient({ url, allowUnauthorized: true, auth: { user: 'root', password } })

const byType = (type) => Object.values(xapi.objects.indexes.type[type] ?? {})
const hostUuid = (ref) => {
  const h = xapi.getObjectByRef(ref, undefined)
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
  if (starts.length) {
    const started = {}
    for (const arg of starts) {
      const [how, vm, host] = arg.split(':')
      const ref = xapi.getObjectByUuid(vm).$ref
      if (how === 'start_on') {
        await xapi.callAsync('VM.start_on', ref, xapi.getObjectByUuid(host).$ref, false, false)
      } else {
        await xapi.callAsync('VM.start', ref, false, false)
      }
      // the change arrives as an event: XO's cache follows event.from
      for (;;) {
        const v = xapi.getObjectByRef(ref)
        if (v.power_state === 'Running' && hostUuid(v.resident_on)) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const v = xapi.getObjectByRef(ref)
      started[vm] = { power_state: v.power_state, resident_on: hostUuid(v.resident_on) }
    }
    say({ started })
  }
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
