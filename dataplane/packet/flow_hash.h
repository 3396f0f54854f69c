// The flow hashes of ebpf/include/vigil/hash.h, for C++: the same code the XDP classifier
// runs, inlined. The header is C written for the BPF target (C casts), so the project's C++
// warnings about them are off for it alone.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "ebpf/include/vigil/hash.h"
#pragma GCC diagnostic pop
