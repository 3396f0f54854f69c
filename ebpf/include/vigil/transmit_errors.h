/* Frames an XDP program decided to send (XDP_TX, XDP_REDIRECT) that the kernel then did not
 * send, or that the program aborted: counted per device by transmit_errors.bpf.c from the
 * kernel's xdp tracepoints, read by the loader. Shared by the BPF program and C++. */
#ifndef VIGIL_TRANSMIT_ERRORS_H
#define VIGIL_TRANSMIT_ERRORS_H

#include <linux/types.h>

enum vigil_transmit_error_kind {
  VIGIL_TRANSMIT_TX_FAILED,       /* XDP_TX frames the device could not send */
  VIGIL_TRANSMIT_REDIRECT_FAILED, /* XDP_REDIRECT refused, or dropped by the target device */
  VIGIL_TRANSMIT_ABORTED,         /* XDP_ABORTED or an unknown action: a program error */
  VIGIL_TRANSMIT_ERROR_KINDS,
};

/* Devices counted at once; the least recently failing one is forgotten beyond this. */
#define VIGIL_TRANSMIT_ERROR_DEVICES 256

struct vigil_transmit_error_counts {
  __u64 frames[VIGIL_TRANSMIT_ERROR_KINDS];
};

#endif /* VIGIL_TRANSMIT_ERRORS_H */
