// Which of `count` owners a session belongs to, read from its local index alone: an owner that
// receives a transport message for another (vigil-dp's lcores, each holding some peers'
// sessions) knows where to pass it without a table. The Handshaker draws every index of a
// peer in the peer's shard; the index stays random in every other respect.
#pragma once

#include <cstdint>

namespace vigil::wg {

struct IndexShard {
  uint32_t shard = 0;
  uint32_t count = 1;
};

inline uint32_t shard_of_index(uint32_t index, uint32_t count) {
  return count <= 1 ? 0 : index % count;
}

}  // namespace vigil::wg
