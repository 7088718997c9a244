// Connects to xenbox with Xen Orchestra's connector and does what XO does:
// log in (transport auto: JSON-RPC first), watch events, read the cache,
// create and start a VM through Async calls and task watching, change a
// field and wait for the event (XO's barrier).  Prints one JSON line of
// what it saw; the pytest test (tests/integration/test_xo.py) checks it.
//
//   node client.mjs URL PASSWORD [auto|xml-rpc|json-rpc]
import { createClient } from 'xen-api'

const [url, password, transport = 'auto'] = process.argv.slice(2)
const out = { transport }
const timeout = setTimeout(() => {
  console.log(JSON.stringify({ ...out, error: 'timeout' }))
  process.exit(2)
}, 60000)

const xapi = createClient({
  url,
  allowUnauthorized: true,
  auth: { user: 'root', password },
  transport,
})

try {
  await xapi.connect()
  out.connected = xapi.status
  await xapi.objectsFetched
  out.pool = xapi.pool.$ref
  out.master = xapi.pool.master
  const hosts = xapi.objects.indexes.type.host
  out.hosts = Object.keys(hosts ?? {}).length
  const vmRef = await xapi.call('VM.create', {
    name_label: 'from-xo',
    PV_kernel: '/boot/vmlinuz',
    memory_static_max: 268435456,
    memory_dynamic_max: 268435456,
    memory_dynamic_min: 268435456,
    memory_static_min: 134217728,
    VCPUs_max: 1,
    VCPUs_at_startup: 1,
  })
  out.vm = vmRef
  await xapi.callAsync('VM.start', vmRef, false, false)
  const vm = await xapi.barrier(vmRef)
  out.power_state = vm.power_state
  await xapi.setField('VM', vmRef, 'name_label', 'renamed-by-xo')
  const vm2 = await xapi.barrier(vmRef)
  out.name_label = vm2.name_label
  try {
    await xapi.call('VM.start', vmRef, false, false)
  } catch (e) {
    out.error_code = e.code
    out.error_params = e.params
  }
  await xapi.callAsync('VM.hard_shutdown', vmRef)
  out.final_state = (await xapi.barrier(vmRef)).power_state
  await xapi.disconnect()
} catch (e) {
  out.error = String(e && e.stack ? e.stack : e)
}
clearTimeout(timeout)
console.log(JSON.stringify(out))
process.exit(out.error ? 1 : 0)
