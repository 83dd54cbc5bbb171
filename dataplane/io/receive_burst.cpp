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
    datagrams_[i].data = slot_buffer(i);
    datagrams_[i].capacity = static_cast<std::uint32_t>(buffer_size);
  }
}

ReceivedDatagram* ReceiveBurst::claim_slot() {
  if (size_ == datagrams_.size()) return nullptr;
  ReceivedDatagram& datagram = datagrams_[size_];
  datagram = ReceivedDatagram{};
  datagram.data = slot_buffer(size_);
  datagram.capacity = static_cast<std::uint32_t>(buffer_size_);
  ++size_;
  return &datagram;
}

}  // namespace mrfp::dataplane
