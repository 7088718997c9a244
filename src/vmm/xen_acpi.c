/* A PVH guest's firmware tables: minimal ACPI (RSDP, XSDT, FADT, DSDT,
 * MADT) and the e820 memory map.
 *
 * libxl builds full tables with libacpi (not part of the tools libraries
 * we link).  A PVH guest needs far less: a hardware-reduced FADT (no PM
 * blocks, no SCI, no RTC, no VGA), an empty DSDT, and a MADT listing one
 * enabled local APIC per vcpu (APIC id 2 * vcpu, as Xen numbers them).
 * All are enabled, as a PV guest sees all its vcpus: Linux boots them,
 * then takes those whose cpu/N/availability says offline down again, and
 * can bring them back later.  (A disabled entry would leave Linux without
 * the vcpu's APIC id, so it could never start it.)  Tables sit just
 * above the ACPI info page as libxl places them; the RSDP goes in the
 * BIOS area for Linux kernels that cannot take its address from the
 * start info. */
#include <errno.h>
#include <string.h>

#include "vmm/xen_priv.h"

#define ACPI_INFO_ADDR  0xfc000000ULL
#define TABLES_ADDR     (ACPI_INFO_ADDR + XC_PAGE_SIZE)
#define RSDP_LOW_ADDR   (0x100000ULL - 64)
#define LAPIC_ADDR      0xfee00000U

#define HDR_LEN         36
#define XSDT_LEN        (HDR_LEN + 2 * 8)
#define FADT_LEN        268     /* ACPI 5.0 */
#define DSDT_LEN        HDR_LEN
#define MADT_FIXED      (HDR_LEN + 8)
#define MADT_LAPIC_LEN  8

#define FADT_PWR_BUTTON (1u << 4)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_HW_REDUCED (1u << 20)
#define BOOT_NO_VGA     (1u << 2)
#define BOOT_NO_CMOS    (1u << 5)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Standard header; the checksum is set by seal() once the body is in. */
static void header(uint8_t *p, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, "Xen   ", 6);            /* OEM id */
	memcpy(p + 16, "xenbox  ", 8);          /* OEM table id */
	put32(p + 24, 1);                       /* OEM revision */
	memcpy(p + 28, "XBOX", 4);              /* creator id */
	put32(p + 32, 1);                       /* creator revision */
}

static void seal(uint8_t *p, uint32_t len)
{
	p[9] = 0;
	p[9] = (uint8_t)(0 - sum(p, len));
}

static void build_fadt(uint8_t *p, uint64_t dsdt)
{
	header(p, "FACP", FADT_LEN, 5);
	put32(p + 40, (uint32_t)dsdt);
	put16(p + 109, BOOT_NO_VGA | BOOT_NO_CMOS);
	put32(p + 112, FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_HW_REDUCED);
	p[131] = 0;                             /* minor version */
	put64(p + 140, dsdt);                   /* X_DSDT */
	seal(p, FADT_LEN);
}

static void build_madt(uint8_t *p, unsigned vcpus)
{
	uint32_t len = MADT_FIXED + vcpus * MADT_LAPIC_LEN;
	uint8_t *e = p + MADT_FIXED;
	unsigned i;

	header(p, "APIC", len, 4);
	put32(p + 36, LAPIC_ADDR);
	put32(p + 40, 0);                       /* no 8259s */
	for (i = 0; i < vcpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = 0;                       /* processor local APIC */
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i;              /* ACPI processor uid */
		e[3] = (uint8_t)(2 * i);        /* APIC id */
		put32(e + 4, 1);                /* enabled */
	}
	seal(p, len);
}

static void build_rsdp(uint8_t *p, uint64_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "Xen   ", 6);
	p[15] = 2;                              /* ACPI 2.0+ */
	put32(p + 20, 36);
	put64(p + 24, xsdt);
	p[8] = (uint8_t)(0 - sum(p, 20));
	p[32] = (uint8_t)(0 - sum(p, 36));
}

int xen_acpi_build(struct xc_dom_image *dom, unsigned vcpus_max)
{
	uint32_t madt_len = MADT_FIXED + vcpus_max * MADT_LAPIC_LEN;
	uint32_t len = XSDT_LEN + FADT_LEN + DSDT_LEN + madt_len;
	uint64_t xsdt = TABLES_ADDR, fadt, dsdt, madt;
	uint8_t *t, *rsdp;

	if (vcpus_max > 128 || len > 4 * XC_PAGE_SIZE) {
		errno = EINVAL;
		return -1;
	}
	t = xc_dom_malloc(dom, len);
	rsdp = xc_dom_malloc(dom, 64);
	if (!t || !rsdp) {
		errno = ENOMEM;
		return -1;
	}
	memset(t, 0, len);
	memset(rsdp, 0, 64);
	fadt = xsdt + XSDT_LEN;
	dsdt = fadt + FADT_LEN;
	madt = dsdt + DSDT_LEN;
	header(t, "XSDT", XSDT_LEN, 1);
	put64(t + HDR_LEN, fadt);
	put64(t + HDR_LEN + 8, madt);
	seal(t, XSDT_LEN);
	build_fadt(t + (fadt - xsdt), dsdt);
	header(t + (dsdt - xsdt), "DSDT", DSDT_LEN, 2);
	seal(t + (dsdt - xsdt), DSDT_LEN);
	build_madt(t + (madt - xsdt), vcpus_max);
	build_rsdp(rsdp, xsdt);

	dom->acpi_modules[0].data = rsdp;
	dom->acpi_modules[0].length = 64;
	if (strcmp(xc_dom_guest_os(dom), "linux") ||
	    xc_dom_feature_get(dom, XENFEAT_linux_rsdp_unrestricted))
		dom->acpi_modules[0].guest_addr_out =
			TABLES_ADDR + ((len + XC_PAGE_SIZE - 1) & ~(XC_PAGE_SIZE - 1));
	else
		dom->acpi_modules[0].guest_addr_out = RSDP_LOW_ADDR;
	dom->acpi_modules[1].data = t;
	dom->acpi_modules[1].length = len;
	dom->acpi_modules[1].guest_addr_out = TABLES_ADDR;
	return 0;
}

/* RAM below the hole, the special pages, each ACPI module, RAM above
 * 4 GiB: at most 3 + MAX_ACPI_MODULES entries. */
int xen_pvh_memmap(struct xc_dom_image *dom, uint32_t domid)
{
	struct e820entry *e;
	unsigned n = 0, i;
	uint64_t pg = XC_PAGE_SIZE;

	e = xc_dom_malloc(dom, (3 + MAX_ACPI_MODULES) * sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return -1;
	}
	e[n++] = (struct e820entry){ 0, dom->lowmem_end, E820_RAM };
	e[n++] = (struct e820entry){
		(uint64_t)(X86_HVM_END_SPECIAL_REGION - X86_HVM_NR_SPECIAL_PAGES)
			<< XC_PAGE_SHIFT,
		(uint64_t)X86_HVM_NR_SPECIAL_PAGES << XC_PAGE_SHIFT,
		E820_RESERVED };
	for (i = 0; i < MAX_ACPI_MODULES; i++) {
		const struct xc_hvm_firmware_module *m = &dom->acpi_modules[i];

		if (!m->length)
			continue;
		e[n++] = (struct e820entry){ m->guest_addr_out & ~(pg - 1),
					     m->length + (m->guest_addr_out & (pg - 1)),
					     E820_ACPI };
	}
	if (dom->highmem_end)
		e[n++] = (struct e820entry){ 1ULL << 32,
					     dom->highmem_end - (1ULL << 32),
					     E820_RAM };
	if (xc_domain_set_memory_map(dom->xch, domid, e, n))
		return -1;
	dom->e820 = e;
	dom->e820_entries = n;
	return 0;
}
