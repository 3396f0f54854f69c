/* Passes every frame. Attached to the switch-side peer of a veth whose own XDP program
 * answers with XDP_TX: veth hands XDP_TX frames to its peer only when the peer runs NAPI, and
 * an XDP program on the peer is what turns NAPI on. A physical NIC needs nothing like it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Apache-2.0";

SEC("xdp")
int lab_pass(struct xdp_md* ctx) {
  return XDP_PASS;
}
