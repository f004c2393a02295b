// VFIO errors carry a stable code (for tests and callers) and a message that says how to fix the cause.

export type VfioErrorCode =
  | 'BAD_ADDRESS'         // malformed PCI address
  | 'NO_DEVICE'           // no such PCI function in sysfs
  | 'NO_VFIO'             // /dev/vfio missing: modules not loaded
  | 'BOUND_TO_KERNEL'     // device owned by a kernel driver
  | 'NOT_BOUND'           // device has no driver at all
  | 'NOIOMMU_DISABLED'    // no IOMMU and enable_unsafe_noiommu_mode=N
  | 'NOIOMMU_NOT_ALLOWED' // no-IOMMU group but the caller did not opt in (--vfio-noiommu)
  | 'NOT_VIABLE'          // another device of the IOMMU group is bound to a kernel driver
  | 'NO_CDEV'             // cdev flow forced but /dev/iommu or /dev/vfio/devices/vfioN missing
  | 'NO_TYPE1'            // container offers no type1 IOMMU
  | 'MIXED'               // no-IOMMU and IOMMU-backed devices in one container
  | 'BAD_ARGUMENT'        // bad region index, unaligned segment, ...
  | 'CLOSED'              // object used after close()
  | 'SYSCALL';            // a system call failed (errno in the message)

export class VfioError extends Error {
  readonly code: VfioErrorCode;
  readonly errno: number | undefined;
  constructor(code: VfioErrorCode, msg: string, errno?: number) {
    super(msg);
    this.name = 'VfioError';
    this.code = code;
    this.errno = errno;
  }
}
