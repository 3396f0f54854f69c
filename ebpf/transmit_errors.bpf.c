/* What happens to a frame after an XDP program has decided: the classifier counts its verdict
 * (XDP_TX, XDP_REDIRECT) when it returns, but the device sends the frame later and may fail
 * (a full ring, a veth peer without NAPI, a redirect target that cannot take XDP frames). The
 * kernel reports those failures only on its xdp tracepoints; these programs count them per
 * device, so that "handed to XDP_TX" and "not sent" can be shown side by side.
 *
 * Tracepoints are global: every network namespace's devices report here. Only devices in the
 * loader's own namespace (`netns_inum`, set before load) are counted, keyed by ifindex, which
 * is unique only within a namespace. The kernel types are declared with just the fields read;
 * CO-RE finds their offsets in the running kernel's BTF. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vigil/transmit_errors.h"

/* BPF_PROG names every tracepoint argument up to the last one used, and its own `ctx`. */
#pragma clang diagnostic ignored "-Wunused-parameter"

/* The kernel lets only GPL-compatible programs read its structures (struct net_device here),
 * so this one program is offered under the BSD or the GPL licence, as libbpf's own BPF headers
 * are; the rest of Vigil's BPF code calls no such helper and keeps the project's licence. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 netns_inum = 0;

struct ns_common {
  unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
  struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
  struct net* net;
} possible_net_t;

struct net_device {
  int ifindex;
  possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct bpf_prog;

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, VIGIL_TRANSMIT_ERROR_DEVICES);
  __type(key, __u32); /* ifindex */
  __type(value, struct vigil_transmit_error_counts);
} transmit_errors SEC(".maps");

static __always_inline void add(const struct net_device* dev, __u32 kind, __u64 frames) {
  if (frames == 0 || kind >= VIGIL_TRANSMIT_ERROR_KINDS ||
      dev->nd_net.net->ns.inum != netns_inum) {
    return;
  }
  __u32 ifindex = dev->ifindex;
  struct vigil_transmit_error_counts* e = bpf_map_lookup_elem(&transmit_errors, &ifindex);
  if (e == NULL) {
    struct vigil_transmit_error_counts zero = {};
    bpf_map_update_elem(&transmit_errors, &ifindex, &zero, BPF_NOEXIST);
    e = bpf_map_lookup_elem(&transmit_errors, &ifindex);
    if (e == NULL) {
      return;
    }
  }
  e->frames[kind] += frames;
}

/* A frame the driver could not take for XDP_TX (or XDP_REDIRECT in generic mode), and every
 * XDP_ABORTED or unknown action. */
SEC("tp_btf/xdp_exception")
int BPF_PROG(vigil_xdp_exception, const struct net_device* dev, const struct bpf_prog* xdp,
             __u32 act) {
  add(dev, act == XDP_TX         ? VIGIL_TRANSMIT_TX_FAILED
           : act == XDP_REDIRECT ? VIGIL_TRANSMIT_REDIRECT_FAILED
                                 : VIGIL_TRANSMIT_ABORTED,
      1);
  return 0;
}

/* XDP_TX frames a device queued and then could not send in its bulk flush (veth). */
SEC("tp_btf/xdp_bulk_tx")
int BPF_PROG(vigil_xdp_bulk_tx, const struct net_device* dev, int sent, int drops) {
  add(dev, VIGIL_TRANSMIT_TX_FAILED, drops > 0 ? (__u64)drops : 0);
  return 0;
}

/* A redirect refused when the program asked for it (no such map entry, target down). */
SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(vigil_xdp_redirect_err, const struct net_device* dev) {
  add(dev, VIGIL_TRANSMIT_REDIRECT_FAILED, 1);
  return 0;
}

/* Redirected frames the target device then dropped, counted where they were received. */
SEC("tp_btf/xdp_devmap_xmit")
int BPF_PROG(vigil_xdp_devmap_xmit, const struct net_device* from, const struct net_device* to,
             int sent, int drops) {
  add(from, VIGIL_TRANSMIT_REDIRECT_FAILED, drops > 0 ? (__u64)drops : 0);
  return 0;
}
