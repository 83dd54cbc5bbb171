#include "dataplane/io/port_allocator.h"

#include <string>

namespace mrfp::dataplane {

namespace {
std::string range_text(std::uint16_t first, std::uint16_t last) {
  return std::to_string(first) + "-" + std::to_string(last);
}
}  // namespace

Result<PortAllocator> PortAllocator::create(std::uint16_t first, std::uint16_t last, PortParity parity) {
  if (first == 0 || first > last) {
    return Error{ErrorCode::InvalidArgument, "port range " + range_text(first, last) + " is empty or starts at 0"};
  }
  if (parity == PortParity::Even && first == last && first % 2 == 1) {
    return Error{ErrorCode::InvalidArgument, "port range " + range_text(first, last) + " holds no even port"};
  }
  return PortAllocator(first, last, parity);
}

PortAllocator::PortAllocator(std::uint16_t first, std::uint16_t last, PortParity parity)
    : first_(static_cast<std::uint16_t>(parity == PortParity::Even && first % 2 == 1 ? first + 1 : first)),
      last_(last),
      step_(parity == PortParity::Even ? 2 : 1),
      slots_((static_cast<std::size_t>(last_) - first_) / step_ + 1),
      used_(slots_, false) {}

PortAllocator::PortAllocator(PortAllocator&& other) noexcept
    : first_(other.first_),
      last_(other.last_),
      step_(other.step_),
      slots_(other.slots_),
      used_(std::move(other.used_)),
      used_count_(other.used_count_),
      next_slot_(other.next_slot_) {}

std::size_t PortAllocator::slot_of(std::uint16_t port) const {
  if (port < first_ || port > last_ || (port - first_) % step_ != 0) return slots_;
  return static_cast<std::size_t>(port - first_) / step_;
}

std::uint16_t PortAllocator::port_of(std::size_t slot) const {
  return static_cast<std::uint16_t>(first_ + slot * step_);
}

Result<std::uint16_t> PortAllocator::allocate() {
  std::lock_guard lock(mutex_);
  if (used_count_ == slots_) {
    return Error{ErrorCode::ResourceExhausted,
                 "local port range " + range_text(first_, last_) + " exhausted: all " +
                     std::to_string(slots_) + " ports in use"};
  }
  for (std::size_t tried = 0; tried < slots_; ++tried) {
    const std::size_t slot = next_slot_;
    next_slot_ = (next_slot_ + 1) % slots_;
    if (!used_[slot]) {
      used_[slot] = true;
      ++used_count_;
      return port_of(slot);
    }
  }
  return Error{ErrorCode::Internal, "port allocator count and bitmap disagree"};
}

Status PortAllocator::reserve(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  const std::size_t slot = slot_of(port);
  if (slot == slots_) {
    return Error{ErrorCode::InvalidArgument,
                 "port " + std::to_string(port) + " is not in the range " + range_text(first_, last_)};
  }
  if (used_[slot]) return Error{ErrorCode::AlreadyExists, "port " + std::to_string(port) + " is in use"};
  used_[slot] = true;
  ++used_count_;
  return ok_status();
}

void PortAllocator::release(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  const std::size_t slot = slot_of(port);
  if (slot == slots_ || !used_[slot]) return;
  used_[slot] = false;
  --used_count_;
}

std::size_t PortAllocator::in_use() const {
  std::lock_guard lock(mutex_);
  return used_count_;
}

}  // namespace mrfp::dataplane
