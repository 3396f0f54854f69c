// A ceiling on what one HTTP/2 session's nghttp2 state may allocate (HPACK tables, streams,
// queued frames): nghttp2 is handed this as its allocator, and an allocation past the budget
// fails, which nghttp2 reports as NGHTTP2_ERR_NOMEM and the connection ends. One client can
// then hold no more memory than its budget, whatever it sends.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>

namespace vigil::l7::http2 {

class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // What nghttp2 allocates through; valid while this budget lives.
  nghttp2_mem* allocator() { return &mem_; }
  // What is held: each block as asked for, and the 16 bytes before it that say its size.
  // (malloc's own overhead is not known here.)
  size_t in_use() const { return in_use_; }
  size_t limit() const { return limit_; }
  // An allocation was refused since the budget was made.
  bool exhausted() const { return exhausted_; }

 private:
  void* allocate(size_t size);
  void release(void* p);
  void* reallocate(void* p, size_t size);

  static void* c_malloc(size_t size, void* self);
  static void c_free(void* p, void* self);
  static void* c_calloc(size_t n, size_t size, void* self);
  static void* c_realloc(void* p, size_t size, void* self);

  size_t limit_;
  size_t in_use_ = 0;
  bool exhausted_ = false;
  nghttp2_mem mem_{this, c_malloc, c_free, c_calloc, c_realloc};
};

}  // namespace vigil::l7::http2
