#include "l7proxy/http2/memory_budget.h"

#include <cstdlib>
#include <cstring>
#include <limits>

namespace vigil::l7::http2 {
namespace {

// Each block starts with its size (the free and realloc calls do not say it), padded so what
// follows keeps malloc's alignment.
constexpr size_t kHeader = alignof(std::max_align_t);

size_t& size_of(void* block) {
  return *static_cast<size_t*>(block);
}

}  // namespace

void* MemoryBudget::allocate(size_t size) {
  if (size > std::numeric_limits<size_t>::max() - kHeader || kHeader + size > limit_ - in_use_) {
    exhausted_ = true;
    return nullptr;
  }
  void* block = std::malloc(kHeader + size);
  if (block == nullptr) {
    return nullptr;
  }
  size_of(block) = size;
  in_use_ += kHeader + size;
  return static_cast<char*>(block) + kHeader;
}

void MemoryBudget::release(void* p) {
  if (p == nullptr) {
    return;
  }
  void* block = static_cast<char*>(p) - kHeader;
  in_use_ -= kHeader + size_of(block);
  std::free(block);
}

void* MemoryBudget::reallocate(void* p, size_t size) {
  if (p == nullptr) {
    return allocate(size);
  }
  void* block = static_cast<char*>(p) - kHeader;
  const size_t old = size_of(block);
  if (size > old &&
      (size > std::numeric_limits<size_t>::max() - kHeader || size - old > limit_ - in_use_)) {
    exhausted_ = true;
    return nullptr;
  }
  void* grown = std::realloc(block, kHeader + size);
  if (grown == nullptr) {
    return nullptr;
  }
  size_of(grown) = size;
  in_use_ = in_use_ - old + size;
  return static_cast<char*>(grown) + kHeader;
}

void* MemoryBudget::c_malloc(size_t size, void* self) {
  return static_cast<MemoryBudget*>(self)->allocate(size);
}

void MemoryBudget::c_free(void* p, void* self) {
  static_cast<MemoryBudget*>(self)->release(p);
}

void* MemoryBudget::c_calloc(size_t n, size_t size, void* self) {
  if (size != 0 && n > std::numeric_limits<size_t>::max() / size) {
    return nullptr;
  }
  void* p = static_cast<MemoryBudget*>(self)->allocate(n * size);
  if (p != nullptr) {
    std::memset(p, 0, n * size);
  }
  return p;
}

void* MemoryBudget::c_realloc(void* p, size_t size, void* self) {
  return static_cast<MemoryBudget*>(self)->reallocate(p, size);
}

}  // namespace vigil::l7::http2
