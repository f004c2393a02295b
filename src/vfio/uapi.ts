// Kernel uAPI of VFIO (include/uapi/linux/vfio.h) and iommufd (include/uapi/linux/iommufd.h):
// ioctl numbers, flag bits and struct layouts (x86-64, little endian). Every VFIO and iommufd ioctl
// is _IO(';', nr): no size/direction bits, the struct carries its own size in its first u32
// (`argsz` for VFIO, `size` for iommufd) so the kernel can tell versions apart.

const IOC_TYPE = 0x3b; // ';'
const io = (nr: number): number => (IOC_TYPE << 8) | nr;

// ---- VFIO (VFIO_BASE = 100) -------------------------------------------------------------------
export const VFIO_API_VERSION = 0;
export const VFIO_GET_API_VERSION = io(100);
export const VFIO_CHECK_EXTENSION = io(101);
export const VFIO_SET_IOMMU = io(102);
export const VFIO_GROUP_GET_STATUS = io(103);
export const VFIO_GROUP_SET_CONTAINER = io(104);
export const VFIO_GROUP_UNSET_CONTAINER = io(105);
export const VFIO_GROUP_GET_DEVICE_FD = io(106);
export const VFIO_DEVICE_GET_INFO = io(107);
export const VFIO_DEVICE_GET_REGION_INFO = io(108);
export const VFIO_DEVICE_GET_IRQ_INFO = io(109);
export const VFIO_DEVICE_SET_IRQS = io(110);
export const VFIO_DEVICE_RESET = io(111);
export const VFIO_IOMMU_GET_INFO = io(112);
export const VFIO_IOMMU_MAP_DMA = io(113);
export const VFIO_IOMMU_UNMAP_DMA = io(114);
export const VFIO_DEVICE_BIND_IOMMUFD = io(118);
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = io(119);
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = io(120);

// VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_NOIOMMU_IOMMU = 8;

// struct vfio_group_status { u32 argsz, flags }
export const VFIO_GROUP_STATUS_SIZE = 8;
export const VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

// struct vfio_device_info { u32 argsz, flags, num_regions, num_irqs, cap_offset, pad }
export const VFIO_DEVICE_INFO_SIZE = 24;
export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;

// struct vfio_region_info { u32 argsz, flags, index, cap_offset; u64 size, offset }
export const VFIO_REGION_INFO_SIZE = 32;
export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
export const VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;

// vfio-pci region and irq indexes
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;

// struct vfio_irq_info { u32 argsz, flags, index, count }
export const VFIO_IRQ_INFO_SIZE = 16;
export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE = 1 << 3;

// struct vfio_iommu_type1_dma_map { u32 argsz, flags; u64 vaddr, iova, size }
export const VFIO_DMA_MAP_SIZE = 32;
export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
// struct vfio_iommu_type1_dma_unmap { u32 argsz, flags; u64 iova, size }
export const VFIO_DMA_UNMAP_SIZE = 24;

// struct vfio_device_bind_iommufd { u32 argsz, flags; s32 iommufd; u32 out_devid }
export const VFIO_DEVICE_BIND_IOMMUFD_SIZE = 16;
// struct vfio_device_attach_iommufd_pt { u32 argsz, flags, pt_id }
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT_SIZE = 12;
// struct vfio_device_detach_iommufd_pt { u32 argsz, flags }
export const VFIO_DEVICE_DETACH_IOMMUFD_PT_SIZE = 8;

// ---- iommufd (IOMMUFD_CMD_BASE = 0x80) -------------------------------------------------------
export const IOMMU_DESTROY = io(0x80);
export const IOMMU_IOAS_ALLOC = io(0x81);
export const IOMMU_IOAS_IOVA_RANGES = io(0x84);
export const IOMMU_IOAS_MAP = io(0x85);
export const IOMMU_IOAS_UNMAP = io(0x86);

// struct iommu_destroy { u32 size, id }
export const IOMMU_DESTROY_SIZE = 8;
// struct iommu_ioas_alloc { u32 size, flags, out_ioas_id }
export const IOMMU_IOAS_ALLOC_SIZE = 12;
// struct iommu_ioas_map { u32 size, flags, ioas_id, __reserved; u64 user_va, length, iova }
export const IOMMU_IOAS_MAP_SIZE = 40;
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;
// struct iommu_ioas_unmap { u32 size, ioas_id; u64 iova, length }
export const IOMMU_IOAS_UNMAP_SIZE = 24;

// ---- PCI configuration space (include/uapi/linux/pci_regs.h) ---------------------------------
export const PCI_VENDOR_ID = 0x00;
export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS = 0x06;

/** A zeroed struct buffer whose first u32 (argsz / size) holds its length. */
export function sizedStruct(size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(size, 0);
  return b;
}
