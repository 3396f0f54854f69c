/* What differs between the BPF and the host build of the shared headers: integer types, byte
 * order and inlining. Everything else under ebpf/include/ is plain C for both. */
#ifndef VIGIL_COMPAT_H
#define VIGIL_COMPAT_H

#include <linux/types.h>

#ifdef __bpf__
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#define vigil_ntohs(x) bpf_ntohs(x)
#define vigil_htons(x) bpf_htons(x)
#define vigil_htonl(x) bpf_htonl(x)
#else
/* Not <arpa/inet.h>: glibc's netinet/in.h clashes with the kernel's linux/in.h. */
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define vigil_ntohs(x) ((__u16)__builtin_bswap16(x))
#define vigil_htonl(x) ((__u32)__builtin_bswap32(x))
#else
#define vigil_ntohs(x) ((__u16)(x))
#define vigil_htonl(x) ((__u32)(x))
#endif
#define vigil_htons(x) vigil_ntohs(x)
#endif

/* Small fixed loops are unrolled for the verifier; gcc (host builds) does not know the pragma. */
#ifdef __clang__
#define VIGIL_UNROLL _Pragma("unroll")
#else
#define VIGIL_UNROLL
#endif

/* A compile-time check in both languages (C11 and C++ spell it differently). */
#ifdef __cplusplus
#define VIGIL_STATIC_ASSERT(condition, message) static_assert(condition, message)
#else
#define VIGIL_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#endif

#endif /* VIGIL_COMPAT_H */
