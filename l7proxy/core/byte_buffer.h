// A connection's bytes in one direction: appended at the end, consumed from the front, held in
// one block that grows (doubling) up to a cap and is given back when empty and idle, so ten
// thousand idle keep-alive connections hold no buffer at all. Blocks of the usual size come
// from and go back to a cache of the thread's own (a worker's), so a request costs no malloc
// and free of them. Not thread-safe: a connection and its buffers live on one worker.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::l7 {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t cap) : cap_(cap) {}

  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  bool full() const { return size() >= cap_; }
  size_t cap() const { return cap_; }
  void set_cap(size_t cap) { cap_ = cap; }
  std::span<const char> data() const { return {storage_.get() + begin_, size()}; }
  std::string_view view() const { return {storage_.get() + begin_, size()}; }

  // Room to read into (at most `want` bytes and never past the cap); empty when full.
  std::span<char> room(size_t want = 16384) {
    const size_t free = cap_ > size() ? cap_ - size() : 0;
    want = want < free ? want : free;
    if (want == 0) {
      return {};
    }
    if (end_ + want > capacity_) {
      make_room(want);
    }
    return {storage_.get() + end_, capacity_ - end_ < free ? capacity_ - end_ : free};
  }
  void commit(size_t n) { end_ += n; }

  void append(std::span<const char> bytes) {
    if (bytes.empty()) {
      return;  // its data may be null, which memcpy must never see
    }
    if (end_ + bytes.size() > capacity_) {
      make_room(bytes.size());
    }
    std::memcpy(storage_.get() + end_, bytes.data(), bytes.size());
    end_ += bytes.size();
  }
  void append(std::string_view s) { append(std::span<const char>(s.data(), s.size())); }
  void append(const std::string& s) { append(std::string_view(s)); }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }
  // Gives the block back when nothing is in it (an idle connection).
  void release_if_empty() {
    if (empty() && storage_) {
      give_back(std::move(storage_), capacity_);
      capacity_ = 0;
    }
  }
  ~ByteBuffer() {
    if (storage_) {
      give_back(std::move(storage_), capacity_);
    }
  }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  static constexpr size_t kBlock = 16384;  // the first block: what one read asks for

 private:
  // The thread's cache of kBlock blocks, bounded (what a burst left is freed past it).
  static constexpr size_t kCachedBlocks = 64;
  static std::vector<std::unique_ptr<char[]>>& cache() {
    thread_local std::vector<std::unique_ptr<char[]>> blocks;
    return blocks;
  }
  static std::unique_ptr<char[]> take_block() {
    auto& blocks = cache();
    if (blocks.empty()) {
      return std::make_unique_for_overwrite<char[]>(kBlock);
    }
    auto block = std::move(blocks.back());
    blocks.pop_back();
    return block;
  }
  static void give_back(std::unique_ptr<char[]> block, size_t capacity) {
    auto& blocks = cache();
    if (capacity == kBlock && blocks.size() < kCachedBlocks) {
      blocks.push_back(std::move(block));
    }
  }

  void make_room(size_t want) {
    const size_t used = size();
    size_t capacity = capacity_ == 0 ? kBlock : capacity_;
    while (capacity < used + want) {
      capacity *= 2;
    }
    if (capacity == capacity_ && begin_ > 0) {
      std::memmove(storage_.get(), storage_.get() + begin_, used);  // enough room once moved
    } else {
      auto next =
          capacity == kBlock ? take_block() : std::make_unique_for_overwrite<char[]>(capacity);
      if (used > 0) {
        std::memcpy(next.get(), storage_.get() + begin_, used);
      }
      if (storage_) {
        give_back(std::move(storage_), capacity_);
      }
      storage_ = std::move(next);
      capacity_ = capacity;
    }
    begin_ = 0;
    end_ = used;
  }

  size_t cap_;  // the most it holds; appends past it are the caller's to prevent
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace vigil::l7
