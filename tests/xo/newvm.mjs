// Xen Orchestra's "New VM" (docs/STORAGE.md 7.4, steps 1-8) against
// xenbox with XO's connector: the calls xo-server's createVm makes, in its
// order and with its arguments, from a built-in template with one disk,
// one NIC and a second disk of the form's.  Prints one JSON line of the
// records after each step; tests/integration/test_xo.py checks it.
//
//   node newvm.mjs URL PASSWORD [fast|copy]
import { createClient } from 'xen-api'

const [url, password, mode = 'fast'] = process.argv.slice(2)
const out = { mode, steps: [] }
const timeout = setTimeout(() => {
  console.log(JSON.stringify({ ...out, error: 'timeout' }))
  process.exit(2)
}, 90000)

const xapi = createClient({ url, allowUnauthorized: true, auth: { user: 'root', password } })
const ignore = p => p.catch(() => {})

try {
  await xapi.connect()
  await xapi.objectsFetched
  const template = Object.values(xapi.objects.all).find(
    o => o.$type === 'VM' && o.name_label === 'Generic Linux PVH (boot from disk)'
  )
  const sr = xapi.pool.default_SR
  const network = Object.values(xapi.objects.all).find(o => o.$type === 'network')

  // 1. clone (fast clone) or copy into the SR
  const vmRef =
    mode === 'copy'
      ? await xapi.callAsync('VM.copy', template.$ref, 'xo-vm', sr)
      : await xapi.callAsync('VM.clone', template.$ref, 'xo-vm')
  out.vm = vmRef
  let vm = await xapi.barrier(vmRef)
  out.steps.push({ step: 1, is_a_template: vm.is_a_template, disks: 'disks' in vm.other_config })

  // 2. the template's disks list goes (errors ignored), 3. provision
  await ignore(xapi.call('VM.remove_from_other_config', vmRef, 'disks'))
  await xapi.callAsync('VM.provision', vmRef)
  vm = await xapi.barrier(vmRef)
  out.steps.push({ step: 3, is_a_template: vm.is_a_template, vbds: vm.VBDs.length })

  // 4. XO's own data
  await ignore(xapi.call('VM.remove_from_other_config', vmRef, 'xo:creation'))
  await xapi.call('VM.add_to_other_config', vmRef, 'xo:creation',
    JSON.stringify({ date: new Date().toISOString(), template: template.uuid, user: 'admin' }))

  // 5. _editVm of the form's values
  await xapi.call('VM.set_name_description', vmRef, 'made by XO')
  await xapi.call('VM.set_VCPUs_max', vmRef, 2)
  await xapi.call('VM.set_VCPUs_at_startup', vmRef, 2)
  await xapi.call('VM.set_memory_limits', vmRef, 536870912, 2147483648, 2147483648, 2147483648)
  await xapi.call('VM.set_PV_args', vmRef, 'console=hvc0')
  await xapi.call('VM.add_tags', vmRef, 'from-xo')
  await xapi.call('VM.set_affinity', vmRef, 'OpaqueRef:NULL')
  vm = await xapi.barrier(vmRef)
  out.steps.push({
    step: 5,
    VCPUs: [vm.VCPUs_max, vm.VCPUs_at_startup],
    memory: [vm.memory_static_min, vm.memory_static_max, vm.memory_dynamic_min, vm.memory_dynamic_max],
    tags: vm.tags,
    creation: 'xo:creation' in vm.other_config,
  })

  // 6. the disks: XO removed the template's list (step 2) and makes its
  // disks, then the form's, as new ones (VDI.create, VBD.create; the first
  // bootable); then a rename and a resize of the first, as the form asks
  const vdis = []
  const allowedBefore = await xapi.call('VM.get_allowed_VBD_devices', vmRef)
  for (const [i, [name, size]] of [['xo-vm root', 10737418240], ['xo-vm data', 1073741824]].entries()) {
    const vdi = await xapi.call('VDI.create', {
      name_label: name,
      name_description: '',
      virtual_size: size,
      SR: sr,
      type: 'user',
      sharable: false,
      read_only: false,
      other_config: {},
      sm_config: {},
      tags: [],
      xenstore_data: {},
    })
    const devices = await xapi.call('VM.get_allowed_VBD_devices', vmRef)
    await xapi.call('VBD.create', {
      VM: vmRef,
      VDI: vdi,
      userdevice: devices[0],
      bootable: i === 0,
      mode: 'RW',
      type: 'Disk',
      empty: false,
      unpluggable: false,
      other_config: {},
      qos_algorithm_type: '',
      qos_algorithm_params: {},
    })
    vdis.push(vdi)
  }
  await xapi.call('VDI.set_name_label', vdis[0], 'xo-vm system')
  await xapi.call('VDI.set_name_description', vdis[0], 'root disk')
  await xapi.callAsync('VDI.resize', vdis[0], 21474836480)
  vm = await xapi.barrier(vmRef)
  const root = await xapi.barrier(vdis[0])
  out.steps.push({
    step: 6,
    vbd_devices: vm.VBDs.map(r => xapi.getObject(r).userdevice).sort(),
    root: [root.name_label, root.name_description, String(root.virtual_size)],
    allowed_vbd_before: allowedBefore.length,
    allowed_vbd_after: (await xapi.call('VM.get_allowed_VBD_devices', vmRef)).length,
  })

  // 7. the cloned VIFs go, one of the form's comes
  for (const vif of vm.VIFs) await xapi.call('VIF.destroy', vif)
  const vifDevices = await xapi.call('VM.get_allowed_VIF_devices', vmRef)
  await xapi.call('VIF.create', {
    device: vifDevices[0],
    network: network.$ref,
    VM: vmRef,
    MAC: '',
    MTU: network.MTU,
    locking_mode: 'network_default',
    ipv4_allowed: [],
    ipv6_allowed: [],
    other_config: {},
    qos_algorithm_type: '',
    qos_algorithm_params: {},
  })

  // 8. the barrier (pool.other_config, event.from) and the records
  vm = await xapi.barrier(vmRef)
  const vif = xapi.getObject(vm.VIFs[0])
  out.steps.push({
    step: 8,
    vifs: vm.VIFs.length,
    vif_device: vif.device,
    mac: vif.MAC,
    power_state: vm.power_state,
    allowed: vm.allowed_operations.sort(),
  })
  await xapi.disconnect()
} catch (e) {
  out.error = String(e && e.stack ? e.stack : e)
}
clearTimeout(timeout)
console.log(JSON.stringify(out))
process.exit(0)
