/* The host build of the XDP parser, for unit tests, fuzzing and the software classifier of
 * dpdk mode: the same code as the BPF program, compiled as C for the host. */
#ifndef VIGIL_PARSE_HOST_H
#define VIGIL_PARSE_HOST_H

#include <stddef.h>

#include "vigil/packet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zeroes `out`, parses `len` bytes of `frame`, returns an enum vigil_parse_result. */
int vigil_parse_frame(const void* frame, size_t len, struct vigil_packet* out);
/* The same without the common-shape shortcut (vigil_parse_common_ipv4()): every step, for the
 * tests and the fuzzer that check both give the same answer. */
int vigil_parse_frame_general(const void* frame, size_t len, struct vigil_packet* out);
/* "truncated_ipv4" for VIGIL_PARSE_TRUNCATED_IPV4; "unknown" out of range. */
const char* vigil_parse_result_name(int result);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_PARSE_HOST_H */
