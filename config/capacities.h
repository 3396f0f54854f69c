/* The capacities the config promises (docs/config.md) and the XDP classifier sizes its maps
 * by, declared once. Plain C: the BPF programs include it through vigil/classifier_types.h.
 * A capacity overridden with -D must be overridden for the BPF objects and the C++ code alike;
 * config/capacity_checks.h holds the one check of each, called by the schema and the loader. */
#ifndef VIGIL_CONFIG_CAPACITIES_H
#define VIGIL_CONFIG_CAPACITIES_H

#ifndef VIGIL_MAX_VIPS
#define VIGIL_MAX_VIPS 16
#endif
#ifndef VIGIL_MAX_BACKENDS
#define VIGIL_MAX_BACKENDS 1024 /* over all VIPs */
#endif
#ifndef VIGIL_ACL_MAX_RULES
#define VIGIL_ACL_MAX_RULES 256
#endif
#ifndef VIGIL_MAX_POLICERS
#define VIGIL_MAX_POLICERS 256 /* rate limits and SYN limits together */
#endif
#ifndef VIGIL_MAX_LOCAL_ADDRESSES
#define VIGIL_MAX_LOCAL_ADDRESSES 256 /* the box's own addresses: interfaces, VLANs, management */
#endif
#ifndef VIGIL_MAX_LOCAL_PORTS
#define VIGIL_MAX_LOCAL_PORTS 256 /* service ports of the box that always pass */
#endif

#endif /* VIGIL_CONFIG_CAPACITIES_H */
