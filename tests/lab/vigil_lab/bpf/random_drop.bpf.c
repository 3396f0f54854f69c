// Lab impairment for kernels without sch_netem: drops each packet with probability
// DROP_PPM / 1,000,000. Attached at the ingress of the far end of a link, so the loss is
// silent to the sender, as on a real lossy WAN. Built by vigil_lab at run time.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#ifndef DROP_PPM
#define DROP_PPM 0
#endif

SEC("tc")
int random_drop(struct __sk_buff *skb) {
  return bpf_get_prandom_u32() % 1000000 < DROP_PPM ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
