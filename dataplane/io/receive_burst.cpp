#include "dataplane/io/receive_burst.h"

namespace mrfp::dataplane {

ReceiveBurst::ReceiveBurst(std::size_t capacity, std::size_t buffer_size)
    : buffer_size_(buffer_size),
      buffers_(capacity * buffer_size),
      datagrams_(capacity),
      messages_(capacity),
      vectors_(capacity),
      control_(capacity * kControlSize) {
  for (std::size_t i = 0; i < capacity; ++i) {
    datagrams_[i].data = buffers_.data() + i * buffer_size;
    datagrams_[i].capacity = static_cast<std::uint32_t>(buffer_size);
  }
}

}  // namespace mrfp::dataplane
