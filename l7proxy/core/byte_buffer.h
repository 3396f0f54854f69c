// A connection's bytes in one direction: appended at the end, consumed from the front, held in
// one block that grows (doubling) up to a cap and is given back when empty and idle, so ten
// thousand idle keep-alive connections hold no buffer at all. Not thread-safe: a connection
// and its buffers live on one worker.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace vigil::l7 {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t cap) : cap_(cap) {}

  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  bool full() const { return size() >= cap_; }
  size_t cap() const { return cap_; }
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
      storage_.reset();
      capacity_ = 0;
    }
  }

 private:
  static constexpr size_t kFirstBlock = 4096;

  void make_room(size_t want) {
    const size_t used = size();
    size_t capacity = capacity_ == 0 ? kFirstBlock : capacity_;
    while (capacity < used + want) {
      capacity *= 2;
    }
    if (capacity == capacity_ && begin_ > 0) {
      std::memmove(storage_.get(), storage_.get() + begin_, used);  // enough room once moved
    } else {
      auto next = std::make_unique_for_overwrite<char[]>(capacity);
      if (used > 0) {
        std::memcpy(next.get(), storage_.get() + begin_, used);
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
