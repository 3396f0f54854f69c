/* An XDP program that passes every frame and does nothing else: the control row of
 * fastpath_lab_iperf.py. Attached to the edge's veths in front of the kernel's own forwarding,
 * it measures what a veth charges for running any XDP program at all (it copies every frame
 * its peer's stack built into a page of its own first), apart from what Vigil's classifier
 * and fast path do. */
#include <linux/bpf.h>

#include "vigil/compat.h"

char LICENSE[] SEC("license") = "Apache-2.0";

SEC("xdp")
int pass_every_frame(struct xdp_md *ctx) {
  (void)ctx;
  return XDP_PASS;
}
