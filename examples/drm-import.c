// SPDX-License-Identifier: MIT
/*
 * accmem-drm-import - accmem device memory imported into a DRM device.
 *
 *   accmem-drm-import [accmemN [DRM-DEVICE-NODE]]
 *
 * Becomes the tenant of accmemN (default accmem0), allocates 4 MiB of
 * device memory, exports it as a dma-buf, writes a pattern through a CPU
 * mapping, and imports the dma-buf into a DRM device (default: vgem) with
 * libdrm's drmPrimeFDToHandle(). The GEM handle is exported again
 * (drmPrimeHandleToFD(): the same dma-buf comes back) and the pattern read
 * through that. Then the tenant closes everything but the GEM handle: the
 * handle alone keeps the tenancy (state "draining") until it is closed,
 * after which the memory is scrubbed and the device idle.
 *
 * Exit status: 0 done; 1 an error; 2 usage; 77 this machine cannot run it
 * (no vgem DRM device, or the DRM driver refuses the memory: vgem imports
 * only memory with struct pages, so PCI BAR memory fails with EOPNOTSUPP).
 * The reason is printed on stderr.
 *
 * Build: cc -o accmem-drm-import drm-import.c \
 *		$(pkg-config --cflags --libs accmem libdrm)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xf86drm.h>
#include <linux/dma-buf.h>

#include <accmem/accmem.h>

#define SIZE	(4UL << 20)
#define NO_PAGES \
	"the DRM driver refuses this memory (vgem imports only memory with struct pages, not a PCI BAR)"

static int unsupported(const char *why)
{
	fprintf(stderr, "accmem-drm-import: stopping: %s\n", why);
	return ACCMEM_EXIT_UNSUPPORTED;
}

static int failed(const char *what, int err)
{
	fprintf(stderr, "accmem-drm-import: %s: %s\n", what,
		accmem_strerror(err));
	return 1;
}

static int sync_dmabuf(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* Writes (@write) or checks the pattern through a mapping of @dmabuf. */
static int pattern(int dmabuf, int write)
{
	uint32_t *p;
	size_t i;
	int ret;

	p = mmap(NULL, SIZE, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED,
		 dmabuf, 0);
	if (p == MAP_FAILED)
		return -errno;
	ret = sync_dmabuf(dmabuf, DMA_BUF_SYNC_START |
			  (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ));
	for (i = 0; !ret && i < SIZE / 4; i++) {
		if (write)
			p[i] = (uint32_t)(i * 2654435761u);
		else if (p[i] != (uint32_t)(i * 2654435761u))
			ret = -EIO;
	}
	sync_dmabuf(dmabuf, DMA_BUF_SYNC_END |
		    (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ));
	munmap(p, SIZE);
	return ret;
}

static int drm_open(const char *node)
{
	drmVersionPtr v;
	char path[32];
	int fd, i, found;

	if (node) {
		fd = open(node, O_RDWR | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	/* The first DRM device whose driver is vgem. */
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		found = v && !strcmp(v->name, "vgem");
		drmFreeVersion(v);
		if (found)
			return fd;
		close(fd);
	}
	return -ENODEV;
}

static void show_state(const char *dev, const char *what)
{
	printf("%-44s %s is %s\n", what, dev,
	       accmem_state_name(accmem_state(dev)));
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "accmem0";
	struct stat a, b;
	int fd, h, dmabuf, drm, again, ret;
	uint32_t gem;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: accmem-drm-import [accmemN [DRM-DEVICE-NODE]]\n");
		return 2;
	}

	fd = accmem_open_tenant(dev);
	if (fd < 0)
		return failed(dev, fd);
	h = accmem_alloc(fd, SIZE, 0, 0);
	if (h < 0)
		return failed("accmem_alloc", h);
	dmabuf = accmem_export(fd, h, 0, SIZE, O_RDWR | O_CLOEXEC);
	if (dmabuf < 0)
		return failed("accmem_export", dmabuf);
	ret = pattern(dmabuf, 1);
	if (ret)
		return failed("writing through the dma-buf", ret);

	drm = drm_open(argc > 2 ? argv[2] : NULL);
	if (drm < 0)
		return unsupported("no vgem DRM device (modprobe vgem), and none named");

	/* The point: the dma-buf imported as a GEM object. */
	if (drmPrimeFDToHandle(drm, dmabuf, &gem)) {
		ret = -errno;
		if (ret == -EOPNOTSUPP) {
			fprintf(stderr, "accmem-drm-import: drmPrimeFDToHandle: EOPNOTSUPP (%s)\n",
				strerror(-ret));
			return unsupported(NO_PAGES);
		}
		return failed("drmPrimeFDToHandle", ret);
	}
	printf("dma-buf of %s imported: GEM handle %u\n", dev, gem);

	/* Exporting the handle gives back our dma-buf. */
	if (drmPrimeHandleToFD(drm, gem, DRM_CLOEXEC | DRM_RDWR, &again))
		return failed("drmPrimeHandleToFD", -errno);
	if (fstat(again, &a) || fstat(dmabuf, &b))
		return failed("fstat", -errno);
	if (a.st_ino != b.st_ino) {
		fprintf(stderr, "accmem-drm-import: the GEM object exports another dma-buf\n");
		return 1;
	}
	ret = pattern(again, 0);
	if (ret)
		return failed("reading through the re-exported dma-buf", ret);
	printf("the pattern reads back through the GEM object's dma-buf\n");
	close(again);

	/* The GEM handle alone keeps the tenancy. */
	close(dmabuf);
	close(fd);
	show_state(dev, "dma-buf and device closed, GEM handle open:");
	if (drmCloseBufferHandle(drm, gem))
		return failed("drmCloseBufferHandle", -errno);
	ret = accmem_wait_until_idle(dev, 30000);
	if (ret)
		return failed("waiting for the scrub", ret);
	show_state(dev, "GEM handle closed, memory scrubbed:");
	close(drm);
	return 0;
}
